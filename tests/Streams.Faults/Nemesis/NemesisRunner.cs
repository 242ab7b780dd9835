using Streams.Client;
using Streams.Faults.Checking;
using Streams.Faults.Hosts;
using Streams.V1;

namespace Streams.Faults.Nemesis;

/// <summary>
/// Carries out a fault plan on the hosts: waits the quiet time, applies the fault, holds it, heals
/// it (restarting a crashed node), records the window in the history, and waits until every shard
/// acknowledged a write again (at most the recovery bound) before the next quiet time.
/// </summary>
internal sealed class NemesisRunner(NetnsHosts hosts, StreamsClient client, string streamName, IReadOnlyList<string> shardIds, History history, FaultLog log, TimeSpan recoveryBound, Random random)
{
    private readonly Dictionary<FaultKind, int> _applied = [];

    /// <summary>How many faults of each kind were applied.</summary>
    public IReadOnlyDictionary<FaultKind, int> Applied => _applied;

    public async Task RunAsync(IReadOnlyList<FaultStep> plan, CancellationToken cancellationToken)
    {
        foreach (var step in plan)
        {
            await Task.Delay(step.QuietBefore, cancellationToken);
            var fault = step.Fault.Kind == FaultKind.CrashLeader ? await ResolveLeaderAsync(step.Fault, cancellationToken) : step.Fault;
            var start = history.Now;
            log.Add($"fault: {fault.Describe()} for {step.Duration.TotalSeconds:F1} s");
            var crashed = await ApplyAsync(fault, cancellationToken);
            _applied[step.Fault.Kind] = _applied.GetValueOrDefault(step.Fault.Kind) + 1;
            await Task.Delay(step.Duration, cancellationToken);

            await hosts.HealAsync(cancellationToken);
            foreach (var host in crashed)
            {
                await hosts.RestartAsync(host, cancellationToken);
            }

            var healed = history.Now;
            history.Add(new FaultWindow(fault.Describe(), start, healed));
            log.Add($"healed: {fault.Describe()}{(crashed.Count > 0 ? $" (node-{string.Join(", node-", crashed)} restarted)" : "")}");
            await WaitForWritesAsync(fault, healed, cancellationToken);
        }
    }

    private async Task<List<int>> ApplyAsync(Fault fault, CancellationToken cancellationToken)
    {
        switch (fault.Kind)
        {
            case FaultKind.PartitionHalves:
            case FaultKind.IsolateOne:
                await hosts.PartitionAsync(fault.Hosts, fault.Others, cancellationToken);
                return [];
            case FaultKind.PartitionOneWay:
                await hosts.PartitionOneWayAsync(fault.Hosts[0], fault.Others[0], cancellationToken);
                return [];
            case FaultKind.Pause:
                await hosts.PauseAsync(fault.Hosts[0], cancellationToken);
                return [];
            case FaultKind.Crash:
            case FaultKind.CrashLeader:
                await hosts.CrashAsync(fault.Hosts[0], cancellationToken);
                return [fault.Hosts[0]];
            case FaultKind.Delay:
                await hosts.DelayAsync(fault.Hosts[0], fault.Amount, fault.Jitter, cancellationToken);
                return [];
            case FaultKind.Loss:
                await hosts.LossAsync(fault.Hosts[0], fault.Amount, cancellationToken);
                return [];
            case FaultKind.Reorder:
                await hosts.ReorderAsync(fault.Hosts[0], fault.Amount, cancellationToken);
                return [];
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, "Unknown fault kind.");
        }
    }

    // The leader of a shard at random, as the cluster reports it now; a random host when it cannot say.
    private async Task<Fault> ResolveLeaderAsync(Fault fault, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(5));
            var shards = await client.ListShardsAsync(new ListShardsRequest { StreamName = streamName }, deadline.Token);
            var leaders = shards.Shards.Select(s => NetnsHosts.HostOf(s.Leader)).Where(h => h > 0).ToList();
            if (leaders.Count > 0)
            {
                return fault with { Hosts = [leaders[random.Next(leaders.Count)]] };
            }
        }
        catch (Exception ex) when (ex is StreamsException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            log.Add($"could not find a shard leader ({ex.Message}); crashing a host at random");
        }

        return fault with { Hosts = [random.Next(1, hosts.Count + 1)] };
    }

    private async Task WaitForWritesAsync(Fault fault, double healed, CancellationToken cancellationToken)
    {
        while (!history.AllShardsAckedSince(shardIds, healed))
        {
            if (history.Now - healed > recoveryBound.TotalSeconds)
            {
                log.Add($"writes not served on every shard within {recoveryBound.TotalSeconds:F0} s of healing '{fault.Describe()}'");
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        log.Add($"writes served on every shard {history.Now - healed:F1} s after the heal");
    }
}
