using System.Diagnostics;
using System.Globalization;
using Streams.Client.Producing;
using Streams.Rpc;

namespace Streams.Load.ClusterBench;

/// <summary>
/// <c>streams-load streams</c>: a 3-node Streams cluster of node processes on this machine, one
/// stream of 4 shards replicated 3 times, and five workloads against it: PutRecords and Produce
/// throughput (closed loop), the SDK's producer beside them, PutRecord latency at a fixed rate (open
/// loop), and put-to-delivery latency through SubscribeToShard.
/// </summary>
internal static class StreamsBenchmark
{
    public const string StreamName = "bench";

    private static readonly string[] _bulkWorkloads = ["put", "produce"];
    private static readonly TimeSpan _preferredLeaderTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(StreamsSettings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var root = settings.Directory ?? Path.Combine(Path.GetTempPath(), "streams-load-streams-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var dataRoot = Path.Combine(root, "data");
        var logRoot = Path.Combine(root, "logs");
        var outcome = new Outcome();
        Session.Progress($"data and node logs under {root}");
        LocalCluster? cluster = null;
        try
        {
            Session.Progress($"starting {settings.Nodes} nodes: dotnet {NodeProcess.ServerDll}");
            cluster = await LocalCluster.StartAsync(settings.Nodes, dataRoot, logRoot, settings.Durability, cancellationToken).ConfigureAwait(false);
            outcome.Cluster = cluster;
            Session.Progress($"nodes listening after {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", cluster.Nodes.Select(n => $"{n.Name} pid {n.Pid} {n.GrpcAddress}"))}");
            var shards = await cluster.CreateStreamAsync(StreamName, settings.Shards, settings.Nodes, cancellationToken).ConfigureAwait(false);
            if (settings.AwaitPreferredLeaders)
            {
                // Elections put leaders anywhere; each node then hands a shard it leads to the shard's
                // preferred replica (the first listed) after a while. Measure once that is done, so
                // that no leader moves in the middle and the leaders are spread over the nodes.
                Session.Progress($"stream {StreamName} ACTIVE after {clock.Elapsed.TotalSeconds:0.0} s; leaders {DescribeLeaders(cluster, shards)}; waiting for the preferred leaders");
                var waited = Stopwatch.StartNew();
                while (shards.Any(s => s.Replicas.Count > 0 && s.Leader != s.Replicas[0]) && waited.Elapsed < _preferredLeaderTimeout)
                {
                    await Task.Delay(250, cancellationToken).ConfigureAwait(false);
                    shards = await cluster.ListShardsAsync(StreamName, cancellationToken).ConfigureAwait(false);
                }

                outcome.PreferredLeaderWait = waited.Elapsed;
                outcome.PreferredLeaders = shards.All(s => s.Replicas.Count == 0 || s.Leader == s.Replicas[0]);
            }

            var bench = new StreamsBench(settings, cluster, StreamName, shards);
            outcome.Bench = bench;
            Session.Progress($"measuring from {clock.Elapsed.TotalSeconds:0.0} s; leaders {DescribeLeaders(cluster, shards)}");
            await MeasureAsync(bench, outcome, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: whatever the calls in flight ended with (a cancellation, or CANCELLED from gRPC).
            outcome.Cancelled = true;
            Session.Progress("cancelled: reporting what was measured so far");
        }
        catch (Exception ex) when (ex is NodeExitedException or StalledException or TimeoutException or InvalidOperationException or RpcException)
        {
            outcome.Aborted = ex is NodeExitedException or StalledException
                ? ex.Message
                : $"{ex.GetType().Name}: {ex.Message}";
            Session.Progress("ABORTED: " + outcome.Aborted);
        }
        finally
        {
            if (cluster is not null)
            {
                outcome.LoadAfter = ClusterBenchmarkRun.LoadAverage();
                outcome.Nodes = [.. cluster.Nodes.Select(n => new NodeSummary(n.Name, n.Pid, n.GrpcAddress, n.Arguments, n.ExitCode, n.Warnings, n.Errors, n.Diagnostics(), n.LogPath))];
                Session.Progress("stopping the nodes");
                await cluster.DisposeAsync().ConfigureAwait(false);
            }
        }

        outcome.Took = clock.Elapsed;
        var keepLogs = settings.Directory is not null || outcome.Failed;
        outcome.LogDirectory = keepLogs ? logRoot : null;
        if (settings.Directory is null)
        {
            ClusterBenchmarkRun.TryDelete(dataRoot);
            if (!keepLogs)
            {
                ClusterBenchmarkRun.TryDelete(root);
            }
        }

        var report = new StreamsReport(settings, MachineInfo.Describe(), started, outcome);
        return await ClusterBenchmarkRun.PublishAsync(report.ToText(), report.ToMarkdown, settings.MarkdownFile, outcome).ConfigureAwait(false);
    }

    private static async Task MeasureAsync(StreamsBench bench, Outcome outcome, CancellationToken cancellationToken)
    {
        var settings = bench.Settings;
        var throughput = new ThroughputLoad(bench);
        using var producer = new ProducerLoad(bench);
        var latency = new LatencyLoad(bench);
        var targets = new[] { Target.AnyNode, Target.Leader };

        var bulk = new List<Measured>();
        foreach (var workload in _bulkWorkloads.Where(settings.Includes))
        {
            foreach (var size in settings.RecordSizes)
            {
                bulk.AddRange(targets.Select(target => new Measured(workload, target, size)));
            }
        }

        // The SDK's producer routes to the leaders itself: one measurement, in the same rounds as the
        // raw calls, so that its ratio to them compares like with like.
        if (settings.Includes("producer"))
        {
            bulk.Add(new Measured("producer", Target.Leader, settings.ProducerRecordBytes));
            bulk.Add(new Measured("producer-put", Target.Leader, settings.ProducerRecordBytes));
        }

        outcome.Throughput.AddRange(bulk);
        await RoundsAsync(bench, bulk, settings.Duration, async (m, duration) => m.Workload switch
        {
            "put" => (object)await throughput.PutRecordsAsync(m.Target, m.RecordBytes, duration, m.Failures, cancellationToken).ConfigureAwait(false),
            "produce" => await throughput.ProduceAsync(m.Target, m.RecordBytes, duration, m.Failures, cancellationToken).ConfigureAwait(false),
            "producer" => await producer.RunAsync(ProducerTransport.ProduceStream, m.RecordBytes, duration, m.Failures, cancellationToken).ConfigureAwait(false),
            _ => await producer.RunAsync(ProducerTransport.PutRecords, m.RecordBytes, duration, m.Failures, cancellationToken).ConfigureAwait(false),
        }, cancellationToken).ConfigureAwait(false);

        if (settings.Includes("latency"))
        {
            var open = targets.Select(target => new Measured("latency", target, settings.LatencyRecordBytes)).ToList();
            outcome.Latency.AddRange(open);
            await RoundsAsync(bench, open, settings.LatencyDuration, (m, duration) => latency.RunAsync(m.Target, settings.Rate, duration, 0, null, m.Failures, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        if (settings.Includes("e2e"))
        {
            await DeliveryAsync(bench, latency, outcome, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A warm-up of every measurement (not counted), then rounds: each round runs every measurement
    /// once, in an order rotating from round to round, so that a machine drifting (the disk, a
    /// neighbour) disturbs all measurements alike.
    /// </summary>
    private static async Task RoundsAsync<T>(StreamsBench bench, List<Measured> measurements, TimeSpan duration, Func<Measured, TimeSpan, Task<T>> run, CancellationToken cancellationToken)
        where T : class
    {
        foreach (var measured in measurements)
        {
            await SettleAsync(bench, cancellationToken).ConfigureAwait(false);
            var warm = await Stalled(measured, run(measured, bench.Settings.Warmup)).ConfigureAwait(false);
            Session.Progress($"{measured.Title,-34} warm-up  {Describe(warm)}");
        }

        for (var round = 0; round < bench.Settings.Runs; round++)
        {
            for (var k = 0; k < measurements.Count; k++)
            {
                var measured = measurements[(k + round) % measurements.Count];
                await SettleAsync(bench, cancellationToken).ConfigureAwait(false);
                var result = await Stalled(measured, run(measured, duration)).ConfigureAwait(false);
                measured.Runs.Add(result);
                Session.Progress($"{measured.Title,-34} run {round + 1}/{bench.Settings.Runs}  {Describe(result)}");
            }
        }
    }

    private static async Task DeliveryAsync(StreamsBench bench, LatencyLoad latency, Outcome outcome, CancellationToken cancellationToken)
    {
        var settings = bench.Settings;
        var measured = new Measured("e2e", Target.AnyNode, settings.LatencyRecordBytes);
        outcome.Delivery = measured;
        await SettleAsync(bench, cancellationToken).ConfigureAwait(false);
        await using var delivery = new DeliveryLoad(bench, latency);
        delivery.Start(measured.Failures, cancellationToken);
        outcome.Subscribers = [.. delivery.Placement];
        var live = await delivery.WarmUpAsync(settings.Warmup, TimeSpan.FromSeconds(15), measured.Failures, cancellationToken).ConfigureAwait(false);
        Session.Progress($"{measured.Title,-34} warm-up  {(live ? "every subscriber receives" : "SOME SUBSCRIBERS RECEIVE NOTHING")}");
        if (!live)
        {
            measured.Failures.Other("a subscriber received no record within 15 s of subscribing");
        }

        for (var round = 0; round < settings.Runs; round++)
        {
            await SettleAsync(bench, cancellationToken).ConfigureAwait(false);
            var result = await Stalled(measured, delivery.RunAsync(round + 1, settings.LatencyDuration, measured.Failures, cancellationToken)).ConfigureAwait(false);
            measured.Runs.Add(result);
            Session.Progress($"{measured.Title,-34} run {round + 1}/{settings.Runs}  {Describe(result)}");
        }

        await bench.RefreshAsync(cancellationToken).ConfigureAwait(false);
        outcome.DeliveryLeadersMoved = bench.Shards.Any(s => outcome.Subscribers.Any(p => p.ShardId == s.ShardId && p.ViaLeader && p.Node != bench.Cluster.Nodes[s.Leader].Name));
    }

    private static string DescribeLeaders(LocalCluster cluster, IReadOnlyList<ShardInfo> shards) =>
        string.Join(", ", shards.Select(s => $"{s.ShardId} {(s.Leader >= 0 ? cluster.Nodes[s.Leader].Name : "(none)")}"));

    /// <summary>A run whose calls did not finish long after its end (each workload has a watchdog) means the cluster stalled.</summary>
    private static async Task<T> Stalled<T>(Measured measured, Task<T> run)
    {
        try
        {
            return await run.ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new StalledException($"{measured.Title}: calls were still unanswered 60 s after the run's end ({DateTimeOffset.UtcNow:HH:mm:ss}Z): the cluster stalled", ex);
        }
    }

    /// <summary>A pause for the previous run's last calls to drain, a clean heap here, the leaders read again; and a check that every node still runs.</summary>
    private static async Task SettleAsync(StreamsBench bench, CancellationToken cancellationToken)
    {
        bench.Cluster.ThrowIfExited();
        await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        await bench.RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(object result)
    {
        var text = result switch
        {
            ThroughputRun run => string.Create(CultureInfo.InvariantCulture, $"{run.RecordsPerSecond,9:N0} rec/s {run.MegabytesPerSecond,7:N1} MB/s  batch p50 {run.BatchP50Ms,6:N1} ms p99 {run.BatchP99Ms,6:N1} ms  CPU nodes {run.Cpu.NodesPercent,3:N0} % client {run.Cpu.ClientPercent,3:N0} %{Problems(run.FailedCalls, run.FailedRecords, run.Misrouted)}"),
            ProducerRun run => string.Create(CultureInfo.InvariantCulture, $"{Describe(run.Throughput)}  batches {run.Batches:N0}, {run.OutOfOrder:N0} refused out of order, {run.Retried:N0} retried"),
            LatencyRun run => Describe(run),
            DeliveryRun run => string.Create(CultureInfo.InvariantCulture, $"delivery via leader p50 {run.Leader.P50Ms,6:N2} ms p99 {run.Leader.P99Ms,6:N2} ms ({run.Leader.Delivered}/{run.Leader.Expected}), via follower p50 {run.Follower.P50Ms,6:N2} ms p99 {run.Follower.P99Ms,6:N2} ms ({run.Follower.Delivered}/{run.Follower.Expected}); put {Describe(run.Put)}"),
            _ => result.ToString() ?? string.Empty,
        };
        return text;
    }

    private static string Describe(LatencyRun run) => string.Create(
        CultureInfo.InvariantCulture,
        $"{run.SentPerSecond,7:N0} calls/s  p50 {run.P50Ms,6:N2} ms p99 {run.P99Ms,6:N2} ms max {run.MaxMs,6:N1} ms  send lag p99 {run.LagP99Ms,5:N2} ms  CPU nodes {run.Cpu.NodesPercent,3:N0} % client {run.Cpu.ClientPercent,3:N0} %{Problems(run.Failed, 0, 0)}");

    private static string Problems(long calls, long records, long misrouted)
    {
        var parts = new List<string>();
        if (calls > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{calls} FAILED calls"));
        }

        if (records > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{records} FAILED records"));
        }

        if (misrouted > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{misrouted} MISROUTED batches"));
        }

        return parts.Count == 0 ? string.Empty : "  " + string.Join(", ", parts);
    }

    /// <summary>One measurement: a workload, a target and a record size, with its runs and what failed in it (warm-ups included).</summary>
    internal sealed class Measured(string workload, Target target, int recordBytes)
    {
        public string Workload => workload;

        public Target Target => target;

        public int RecordBytes => recordBytes;

        public List<object> Runs { get; } = [];

        public Failures Failures { get; } = new();

        public string Title => workload switch
        {
            "put" => $"PutRecords {Size(recordBytes)} {TargetName(target)}",
            "produce" => $"Produce {Size(recordBytes)} {TargetName(target)}",
            "producer" => $"Producer (SDK) {Size(recordBytes)}",
            "producer-put" => $"Producer (SDK, PutRecords) {Size(recordBytes)}",
            "latency" => $"PutRecord latency {TargetName(target)}",
            _ => "put-to-subscriber latency",
        };

        public IEnumerable<T> RunsOf<T>() => Runs.OfType<T>();

        /// <summary>The runs' throughput figures, the producer's included.</summary>
        public List<ThroughputRun> ThroughputRuns() => [.. Runs.Select(r => r is ProducerRun p ? p.Throughput : r).OfType<ThroughputRun>()];

        public static string Size(int bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} B";

        public static string TargetName(Target target) => target == Target.AnyNode ? "any node" : "to leader";
    }

    /// <summary>The cluster stopped answering.</summary>
    internal sealed class StalledException(string message, Exception inner) : Exception(message, inner);

    /// <summary>A node as it was at the end: how it ran and what it logged.</summary>
    internal sealed record NodeSummary(string Name, int Pid, Uri Address, string Arguments, int? ExitCode, long Warnings, long Errors, (IReadOnlyList<string> Problems, string Tail) Diagnostics, string LogPath);

    /// <summary>Everything the report needs.</summary>
    internal sealed class Outcome : ClusterOutcome
    {
        public LocalCluster? Cluster { get; set; }

        public StreamsBench? Bench { get; set; }

        public List<Measured> Throughput { get; } = [];

        public List<Measured> Latency { get; } = [];

        public Measured? Delivery { get; set; }

        public IReadOnlyList<(string ShardId, string Node, bool ViaLeader)> Subscribers { get; set; } = [];

        public bool DeliveryLeadersMoved { get; set; }

        /// <summary>How long the wait for every shard to be led by its preferred replica took (null: not waited).</summary>
        public TimeSpan? PreferredLeaderWait { get; set; }

        /// <summary>Every shard was led by its preferred replica when the measurements started.</summary>
        public bool PreferredLeaders { get; set; }

        public IReadOnlyList<NodeSummary> Nodes { get; set; } = [];

        public IEnumerable<Measured> All => Throughput.Concat(Latency).Concat(Delivery is null ? [] : [Delivery]);

        public override bool Failed => Aborted is not null || All.Any(m => m.Failures.Any) || Nodes.Any(n => n.ExitCode is not null || n.Errors > 0);
    }
}
