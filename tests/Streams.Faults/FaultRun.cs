using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Faults.Checking;
using Streams.Faults.Hosts;
using Streams.Faults.Nemesis;
using Streams.Faults.Workload;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Faults;

/// <summary>
/// One fault run, start to end: hosts and nodes, a stream, producers and consumers, the nemesis for
/// the run's length, then a heal, a drain, a full read of every shard through every node, and the
/// checker. The hosts are always destroyed; the work directory (node data and logs) is kept when
/// the run fails.
/// </summary>
internal static class FaultRun
{
    public const string StreamName = "faults";
    public const string GroupName = "faults-group";

    private static readonly TimeSpan _warmUpLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan _readLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan _drainLimit = TimeSpan.FromSeconds(90);

    public static async Task<FaultRunResult> RunAsync(FaultRunOptions options, string repoRoot, Action<string> echo, CancellationToken cancellationToken)
    {
        options.Validate();
        var history = new History(TimeProvider.System);
        var clientLog = new ClientLog(history);
        var log = new FaultLog(() => history.Now, echo);
        var work = options.WorkDirectory ?? Directory.CreateTempSubdirectory($"streams-faults-{options.Seed}-").FullName;
        Directory.CreateDirectory(work);
        var state = Path.Combine(work, "hosts");
        var prefix = options.Prefix ?? "ft" + (Environment.ProcessId % 100_000).ToString(CultureInfo.InvariantCulture);
        var serverDll = Path.Combine(AppContext.BaseDirectory, "Streams.Server.dll");
        if (!File.Exists(serverDll))
        {
            throw new FaultRunException($"{serverDll} is missing: build tests/Streams.Faults (it copies the server beside itself).");
        }

        log.Add($"seed {options.Seed}: {options.Hosts} hosts, {options.Shards} shards (replication {options.ReplicationFactor}), {options.Producing.Producers} producers x {options.Producing.RecordsPerSecond}/s of {options.Producing.RecordBytes} B, {options.Consumers} consumers, faults for {options.Length.TotalSeconds:F0} s; work in {work}");
        var random = new Random(options.Seed);
        var hosts = await NetnsHosts.CreateAsync(repoRoot, options.Hosts, prefix, state, log.Add, cancellationToken);
        CheckReport? report = null;
        NemesisRunner? nemesis = null;
        ConsumerWorkload? consumers = null;
        var failureCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            var kinds = (options.Kinds ?? FaultPlanOptions.AllKinds).Where(k => hosts.CanDegradeLinks || !FaultPlanOptions.LinkKinds.Contains(k)).ToList();
            if (kinds.Count == 0)
            {
                throw new FaultRunException("These hosts cannot delay, drop or reorder packets (no netem, no wire) and no other fault kind was asked for.");
            }

            log.Add($"hosts {hosts.Prefix}-1..{options.Hosts} on {hosts.Network}.0/24; links {(hosts.CanDegradeLinks ? "take delay, loss and reorder" : "cannot be degraded (no netem or wire): no delay, loss or reorder faults")}");
            await Task.WhenAll(Enumerable.Range(1, options.Hosts).Select(h =>
                hosts.StartNodeAsync(h, serverDll, Path.Combine(work, "data", NetnsHosts.NodeId(h)), options.NodeArguments, cancellationToken)));
            log.Add("every node listens");

            var plan = FaultPlan.Draw(new Random(random.Next()), options.Hosts, options.Length, new FaultPlanOptions
            {
                Kinds = kinds,
                MinFault = options.MinFault,
                MaxFault = options.MaxFault,
                MinQuiet = options.MinQuiet,
                MaxQuiet = options.MaxQuiet,
            });
            log.Add($"plan: {plan.Count} faults: {string.Join("; ", plan.Select(s => $"{s.Fault.Describe()} {s.Duration.TotalSeconds:F1} s"))}");

            using var clientLogs = clientLog.CreateFactory(LogLevel.Debug);
            await using var client = new StreamsClient(new StreamsClientOptions
            {
                LoggerFactory = clientLogs,
                Endpoints = [.. Enumerable.Range(1, options.Hosts).Select(hosts.Endpoint)],
                RequestTimeout = TimeSpan.FromSeconds(5),
                MaxAttempts = 12,
                Random = new Random(random.Next()),
            });
            var shardIds = await CreateStreamAsync(client, options, log, cancellationToken);

            using var stopProducers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopConsumers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var producing = new ProducerWorkload(client, StreamName, history, options.Producing).RunAsync(random.Next(), stopProducers.Token);
            consumers = new ConsumerWorkload(client, StreamName, GroupName, history, options.ConsumerSessionTimeout);
            var consuming = Enumerable.Range(1, options.Consumers).Select(c => consumers.RunAsync($"consumer-{c}", stopConsumers.Token)).ToList();
            var sendingStopped = double.MaxValue;
            try
            {
                await WaitAsync(() => history.AllShardsAckedSince(shardIds, 0), _warmUpLimit, "every shard acknowledges a write before any fault", cancellationToken);
                log.Add($"warm: every shard acknowledged writes ({history.Acked.Count} so far)");

                nemesis = new NemesisRunner(hosts, client, StreamName, shardIds, history, log, options.RecoveryBound, new Random(random.Next()));
                await nemesis.RunAsync(plan, cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
                log.Add($"faults over; stopping the producers ({history.Acked.Count} acknowledged, {history.Failed.Count} failed so far)");
            }
            finally
            {
                await stopProducers.CancelAsync();
                await producing;
                sendingStopped = history.Now;
            }

            log.Add($"producers done: {history.Sent.Count} sent, {history.Acked.Count} acknowledged, {history.Failed.Count} failed");
            var reads = await ReadEveryReplicaAsync(hosts, shardIds, log, cancellationToken);
            if (options.Consumers > 0)
            {
                // The stored records (each shard's longest read) no consumer was handed yet, updated
                // from the deliveries recorded since the last look, not the whole history each time.
                var undelivered = reads.GroupBy(r => r.ShardId, StringComparer.Ordinal)
                    .SelectMany(g => g.MaxBy(r => r.Records.Count)!.Records.Select(r => (g.Key, r.SequenceNumber)))
                    .ToHashSet();
                var looked = 0;
                var drained = await TryWaitAsync(
                    () =>
                    {
                        foreach (var delivery in history.Delivered.Skip(looked))
                        {
                            undelivered.Remove((delivery.ShardId, delivery.SequenceNumber));
                            looked++;
                        }

                        return undelivered.Count == 0;
                    },
                    _drainLimit,
                    cancellationToken);
                log.Add(drained ? "consumers were handed every stored record" : $"consumers still short of the stored records after {_drainLimit.TotalSeconds:F0} s");
            }

            await stopConsumers.CancelAsync();
            await Task.WhenAll(consuming);
            var finalCheckpoints = await FinalCheckpointsAsync(client, log, cancellationToken);
            report = HistoryChecker.Check(new CheckInput
            {
                Sent = history.Sent,
                Acked = history.Acked,
                Failed = history.Failed,
                Delivered = history.Delivered,
                Checkpoints = history.Checkpoints,
                Faults = history.Faults,
                ShardIds = shardIds,
                Reads = reads,
                FinalCheckpoints = finalCheckpoints,
                RecoveryBound = options.RecoveryBound,
                SendingStoppedAt = sendingStopped,
                ExpectDeliveries = options.Consumers > 0,
                Refusals = consumers.Refusals,
            });
            foreach (var failure in history.Failed.GroupBy(f => f.Error, StringComparer.Ordinal))
            {
                failureCounts["record failed: " + failure.Key] = failure.Count();
            }

            foreach (var (error, count) in consumers.CheckpointFailures)
            {
                failureCounts[$"checkpoint refused: {error} (first: {consumers.FirstMessages.GetValueOrDefault(error)})"] = count;
            }
        }
        finally
        {
            if (report is not { Passed: true })
            {
                CopyNodeLogs(state, work, options.Hosts);
                HistoryFiles.Write(history, Path.Combine(work, "history"));
                File.WriteAllLines(Path.Combine(work, "client.log"), clientLog.Lines);
            }

            await hosts.DisposeAsync();
        }

        var keep = !report.Passed || options.KeepWorkDirectory;
        if (!keep && options.WorkDirectory is null)
        {
            TryDelete(work);
        }

        return new FaultRunResult(options.Seed, report, nemesis?.Applied ?? new Dictionary<FaultKind, int>(), log.Lines, failureCounts, TimeSpan.FromSeconds(history.Now), keep ? work : null);
    }

    private static async Task<IReadOnlyList<string>> CreateStreamAsync(StreamsClient client, FaultRunOptions options, FaultLog log, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_warmUpLimit);
        while (true)
        {
            try
            {
                await client.CreateStreamAsync(new CreateStreamRequest { StreamName = StreamName, ShardCount = options.Shards, ReplicationFactor = options.ReplicationFactor }, limit.Token);
                await client.WaitForStreamActiveAsync(StreamName, limit.Token);
                var shards = await client.ListShardsAsync(new ListShardsRequest { StreamName = StreamName }, limit.Token);
                log.Add($"stream '{StreamName}' ACTIVE: {string.Join("; ", shards.Shards.Select(s => $"{s.ShardId} leader {s.Leader} replicas {string.Join(',', s.Replicas)}"))}");
                return [.. shards.Shards.Select(s => s.ShardId).Order(StringComparer.Ordinal)];
            }
            catch (StreamsException ex) when (ex.ErrorCode == "ResourceInUseException")
            {
                // An earlier attempt made it; wait for it below.
                await client.WaitForStreamActiveAsync(StreamName, limit.Token);
            }
            catch (StreamsException ex) when (!limit.IsCancellationRequested)
            {
                log.Add($"creating the stream: {ex.ErrorCode} {ex.Message}; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new FaultRunException($"The stream was not ACTIVE within {_warmUpLimit.TotalSeconds:F0} s of the nodes starting.");
            }
        }
    }

    // Every node's read of every shard; read again (a replica may be a moment behind after the last
    // heal) until they agree or the time is up, and the checker judges the last reads.
    private static async Task<IReadOnlyList<ShardReplicaRead>> ReadEveryReplicaAsync(NetnsHosts hosts, IReadOnlyList<string> shardIds, FaultLog log, CancellationToken cancellationToken)
    {
        var readers = Enumerable.Range(1, hosts.Count).Select(h => new ReplicaReader(NetnsHosts.NodeId(h), hosts.Endpoint(h))).ToList();
        try
        {
            var started = DateTime.UtcNow;
            var reads = new List<ShardReplicaRead>();
            for (var attempt = 1; ; attempt++)
            {
                reads.Clear();
                var unreadable = new List<string>();
                foreach (var reader in readers)
                {
                    foreach (var shardId in shardIds)
                    {
                        try
                        {
                            reads.Add(await reader.ReadAsync(StreamName, shardId, cancellationToken));
                        }
                        catch (RpcException ex)
                        {
                            unreadable.Add($"{reader.NodeId}/{shardId}: {ex.Status}");
                        }
                    }
                }

                var agree = unreadable.Count == 0 && shardIds.All(s => reads.Where(r => r.ShardId == s).Select(r => r.Records.Count).Distinct().Count() == 1);
                if (agree || DateTime.UtcNow - started > _readLimit)
                {
                    log.Add($"read back (attempt {attempt}): {string.Join("; ", shardIds.Select(s => $"{s} {string.Join('/', reads.Where(r => r.ShardId == s).Select(r => r.Records.Count))}"))}{(unreadable.Count > 0 ? $"; unreadable: {string.Join("; ", unreadable)}" : "")}");
                    if (shardIds.Any(s => !reads.Any(r => r.ShardId == s)))
                    {
                        throw new FaultRunException($"Some shards could not be read through any node: {string.Join("; ", unreadable)}");
                    }

                    return [.. reads];
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }

    private static async Task<IReadOnlyDictionary<string, string>?> FinalCheckpointsAsync(StreamsClient client, FaultLog log, CancellationToken cancellationToken)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(30));
            var response = await client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = StreamName, GroupName = GroupName }, limit.Token);
            log.Add($"final checkpoints: {string.Join("; ", response.Checkpoints.Select(c => $"{c.ShardId} #{c.SequenceNumber}"))}");
            return response.Checkpoints.Where(c => c.SequenceNumber.Length > 0).ToDictionary(c => c.ShardId, c => c.SequenceNumber, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is StreamsException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            log.Add($"could not read the final checkpoints: {ex.Message}");
            return null;
        }
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan limit, string what, CancellationToken cancellationToken)
    {
        if (!await TryWaitAsync(condition, limit, cancellationToken))
        {
            throw new FaultRunException($"Timed out after {limit.TotalSeconds:F0} s waiting until {what}.");
        }
    }

    private static async Task<bool> TryWaitAsync(Func<bool> condition, TimeSpan limit, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        while (!condition())
        {
            if (DateTime.UtcNow - started > limit)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }

        return true;
    }

    private static void CopyNodeLogs(string state, string work, int hostCount)
    {
        for (var host = 1; host <= hostCount; host++)
        {
            var log = Path.Combine(state, "hosts", host.ToString(CultureInfo.InvariantCulture), "node.log");
            if (File.Exists(log))
            {
                File.Copy(log, Path.Combine(work, $"{NetnsHosts.NodeId(host)}.log"), overwrite: true);
            }
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
