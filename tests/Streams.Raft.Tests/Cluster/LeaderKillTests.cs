using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Streams.Raft.Tests.Cluster;

/// <summary>
/// Three real node processes over loopback, each with a fsynced <c>FileRaftLog</c>; clients write
/// unique values while the leader is SIGKILLed again and again and restarted on its data
/// directory after a seeded random pause. Every acknowledged write must survive, at its index, on
/// every node, exactly once (more copies only when an attempt ended without an answer and was
/// retried), and the three state machines must end identical. Snapshots every 200 entries, so
/// compaction, restarts from a snapshot and snapshots sent to a restarted node are all in play.
/// </summary>
[Collection(ProcessClusterDefinition.Name)]
public sealed class LeaderKillTests(ITestOutputHelper output)
{
    private const int Nodes = 3;
    private const int Writers = 3;
    private const long SnapshotEveryEntries = 200;

    // Acknowledged writes wanted after each restart before the next kill: the cluster recovered.
    private const int AcksBetweenKills = 20;

    private static readonly TimeSpan _tick = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_acknowledged_write_survives_the_leader_being_SIGKILLed_again_and_again()
    {
        var kills = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 30 : 5;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("STREAMS_RAFT_KILL_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (rerun with STREAMS_RAFT_KILL_SEED={seed}), {kills} kills");
        var random = new Random(seed);
        var ledger = new WriteLedger();
        var elapsed = Stopwatch.StartNew();
        var killed = 0;
        var passed = false;
        ProcessCluster? cluster = null;
        Task[] writers = [];
        using var stopWriters = new CancellationTokenSource();
        try
        {
            cluster = await ProcessCluster.StartAsync(Nodes, _tick, SnapshotEveryEntries);
            await cluster.WaitForLeaderAsync(_progressTimeout);
            var clients = cluster;
            writers = [.. Enumerable.Range(0, Writers).Select(_ => Task.Run(() => WriteUntilStoppedAsync(clients, ledger, stopWriters.Token)))];

            for (var kill = 1; kill <= kills; kill++)
            {
                await WaitForAcksAsync(ledger, AcksBetweenKills, $"before kill {kill}");

                // A random extra moment, so kills land anywhere: mid-fsync, mid-snapshot, mid-append.
                await Task.Delay(random.Next(0, 200));
                var leader = await cluster.WaitForLeaderAsync(_progressTimeout);
                await leader.KillAsync();
                killed++;
                output.WriteLine($"{elapsed.Elapsed.TotalSeconds,6:F1}s kill {kill}: node {leader.Id} (acks so far {ledger.Acks})");

                await Task.Delay(random.Next(50, 1000));
                await leader.StartAsync();
            }

            // The cluster still takes writes with every node back.
            await WaitForAcksAsync(ledger, AcksBetweenKills, "after the last restart");
            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);

            var statuses = await WaitForConvergenceAsync(cluster);
            var states = await Task.WhenAll(cluster.Nodes.Select(cluster.ValuesAsync));
            var problems = Verify(cluster, states, ledger);
            var duplicates = states[0].Values.GroupBy(v => v.Value, StringComparer.Ordinal).Count(g => g.Count() > 1);
            var summary =
                $"{ledger.Acks} acks, {killed} kills, {elapsed.Elapsed.TotalSeconds:F1} s; {states[0].Values.Count} values on each node "
                + $"(commit {statuses[0].Commit}, {duplicates} written twice after an ambiguous attempt); {ledger.Values} values tried, "
                + $"{ledger.Ambiguous} ambiguous and {ledger.NotWritten} refused attempts; "
                + $"snapshots taken {cluster.Nodes.Sum(n => n.SnapshotsTaken)}, restored {cluster.Nodes.Sum(n => n.SnapshotsRestored)} "
                + $"(of which sent by a leader {cluster.Nodes.Sum(n => n.SnapshotsReceived)})";
            output.WriteLine(summary);
            if (problems.Count > 0)
            {
                Assert.Fail($"{problems.Count} problem(s); the first ones:\n{string.Join('\n', problems.Take(20))}\n{summary}");
            }

            Assert.True(ledger.Acks >= (kills + 1) * AcksBetweenKills, $"only {ledger.Acks} acknowledged writes: the test proved little.");
            passed = true;
        }
        catch (Exception ex)
        {
            var context = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"seed {seed} (rerun with STREAMS_RAFT_KILL_SEED={seed}); after {killed} kill(s), {elapsed.Elapsed.TotalSeconds:F1} s, ")
                .Append(CultureInfo.InvariantCulture, $"{ledger.Acks} acks, {ledger.Ambiguous} ambiguous and {ledger.NotWritten} refused attempts.\n");
            if (cluster is not null)
            {
                context.Append(CultureInfo.InvariantCulture, $"Node data kept in {cluster.Root}.\n").Append(await cluster.DescribeAsync(40));
            }

            throw new XunitException($"{ex.Message}\n{context}", ex);
        }
        finally
        {
            await stopWriters.CancelAsync();
            if (cluster is not null)
            {
                // Kill first, so writers waiting on a node get their answer (a refusal) at once.
                await cluster.DisposeAsync();
                await Task.WhenAll(writers).ContinueWith(static _ => { }, TaskScheduler.Default);
                if (passed)
                {
                    cluster.DeleteData();
                }
            }
        }
    }

    /// <summary>
    /// Writes fresh values one at a time, each until it is acknowledged, at whichever node leads;
    /// a refusal's leader hint is followed, otherwise the nodes are asked who leads.
    /// </summary>
    private static async Task WriteUntilStoppedAsync(ProcessCluster cluster, WriteLedger ledger, CancellationToken stop)
    {
        NodeProcess? target = null;
        while (!stop.IsCancellationRequested)
        {
            var value = ledger.NextValue();

            // The same value again after a failure: after an ambiguous one it may end up twice.
            while (!stop.IsCancellationRequested)
            {
                target ??= await cluster.FindLeaderAsync();
                if (target is null)
                {
                    await Task.Delay(20, CancellationToken.None);
                    continue;
                }

                var outcome = await cluster.PutAsync(target, value);
                ledger.Record(value, outcome);
                if (outcome.Result == PutResult.Acknowledged)
                {
                    break;
                }

                target = outcome.LeaderHint != 0 && outcome.LeaderHint != target.Id ? cluster.Node(outcome.LeaderHint) : null;
                if (target is null)
                {
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        }
    }

    private static async Task WaitForAcksAsync(WriteLedger ledger, int count, string when)
    {
        var start = ledger.Acks;
        var deadline = Stopwatch.StartNew();
        while (ledger.Acks < start + count)
        {
            if (deadline.Elapsed > _progressTimeout)
            {
                throw new TimeoutException($"Only {ledger.Acks - start} of {count} writes were acknowledged within {_progressTimeout.TotalSeconds} s {when}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits until every node runs, one leads, and all hold and applied the same log.</summary>
    private static async Task<NodeStatus[]> WaitForConvergenceAsync(ProcessCluster cluster)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var statuses = await Task.WhenAll(cluster.Nodes.Select(cluster.StatusAsync));
            if (statuses.All(s => s is not null)
                && statuses.Any(s => s!.IsLeader)
                && statuses.All(s => s!.Commit == statuses[0]!.Commit && s.Applied == s.Commit && s.LastIndex == statuses[0]!.LastIndex))
            {
                return statuses!;
            }

            if (deadline.Elapsed > _progressTimeout)
            {
                throw new TimeoutException(
                    $"The nodes did not converge within {_progressTimeout.TotalSeconds} s: "
                    + string.Join("; ", cluster.Nodes.Zip(statuses, (node, status) => $"node {node.Id}: {status?.ToString() ?? "no answer"}")));
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Everything wrong with the final states, as readable lines; empty when all is well.</summary>
    private static List<string> Verify(ProcessCluster cluster, AppliedValues[] states, WriteLedger ledger)
    {
        var problems = new List<string>();
        var nodes = cluster.Nodes.ToArray();
        var reference = states[0].Values;

        // (b) The three state machines are identical, value for value and index for index.
        for (var n = 1; n < states.Length; n++)
        {
            var other = states[n].Values;
            var firstDifference = Enumerable.Range(0, Math.Min(reference.Count, other.Count)).FirstOrDefault(i => reference[i] != other[i], -1);
            if (firstDifference >= 0 || reference.Count != other.Count)
            {
                var at = firstDifference >= 0 ? firstDifference : Math.Min(reference.Count, other.Count);
                problems.Add(
                    $"node {nodes[n].Id} differs from node {nodes[0].Id}: {other.Count} values against {reference.Count}, first difference at position {at}: "
                    + $"{(at < other.Count ? other[at].ToString() : "none")} against {(at < reference.Count ? reference[at].ToString() : "none")}");
            }
        }

        var byIndex = new Dictionary<long, string>();
        var previous = 0L;
        foreach (var (index, value) in reference)
        {
            if (index <= previous)
            {
                problems.Add($"index {index} ({value}) follows index {previous}: the state machine is not in log order");
            }

            previous = index;
            byIndex[index] = value;
        }

        // (a) Every acknowledged value is where it was acknowledged (on every node, by (b)).
        foreach (var (value, index) in ledger.Acknowledged().OrderBy(a => a.Index))
        {
            if (!byIndex.TryGetValue(index, out var found) || found != value)
            {
                problems.Add($"{value} was acknowledged at index {index} but that index holds {found ?? "nothing"}");
            }
        }

        // (c) No value more often than attempts that may have written it: an acknowledged value
        // written once is there exactly once; nothing the client never sent is there at all.
        foreach (var group in reference.GroupBy(v => v.Value, StringComparer.Ordinal))
        {
            var copies = group.Count();
            if (!ledger.TryGet(group.Key, out _, out var mayHaveWritten))
            {
                problems.Add($"{group.Key} is at index {group.First().Index} but no client ever wrote it");
            }
            else if (copies > mayHaveWritten)
            {
                problems.Add($"{group.Key} is there {copies} times (indexes {string.Join(", ", group.Select(v => v.Index))}) but only {mayHaveWritten} attempt(s) may have written it");
            }
        }

        return problems;
    }
}
