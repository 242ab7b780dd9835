using System.Diagnostics;
using System.Globalization;

namespace Streams.Load.Raft;

/// <summary>
/// <c>streams-load raft</c>: commits/s and commit latency of a 3-node cluster in one process, over
/// loopback gRPC and over the in-memory network, with fsync on and off, each run paired with a
/// lone <see cref="Streams.Raft.Storage.FileRaftLog"/> writer on the same disk just before it.
/// </summary>
internal static class RaftBenchmark
{
    private static readonly TimeSpan _leaderTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(RaftSettings settings, CancellationToken cancellationToken)
    {
        var root = settings.Directory ?? Path.Combine(Path.GetTempPath(), "streams-raft-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var proposers = new Proposer[settings.Concurrency.Max()];
        for (var i = 0; i < proposers.Length; i++)
        {
            proposers[i] = new Proposer(settings.EntryBytes);
        }

        Session.Progress($"logs under {root}");
        var merger = new LatencyMerger();
        var baselineRecorder = new LatencyRecorder();
        var results = new Dictionary<Key, Measured>();
        var baselines = new Dictionary<(bool Fsync, int EntriesPerSave), List<BaselineRun>>();
        var cancelled = false;
        try
        {
            foreach (var fsync in settings.Fsync)
            {
                await MeasureFsyncSettingAsync(settings, fsync, root, proposers, merger, baselineRecorder, results, baselines, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
            Session.Progress("cancelled: reporting what was measured so far");
        }
        finally
        {
            if (settings.Directory is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }

        var report = new RaftReport(settings, MachineInfo.Describe(), started, clock.Elapsed, cancelled, results, baselines);
        Console.Out.Write(report.ToText());
        Console.Out.Flush();
        if (settings.MarkdownFile is { } markdown)
        {
            await File.WriteAllTextAsync(markdown.FullName, report.ToMarkdown(), CancellationToken.None).ConfigureAwait(false);
            Session.Progress($"wrote {markdown.FullName}");
        }

        return cancelled ? 130 : report.Errors > 0 ? 1 : 0;
    }

    private static async Task MeasureFsyncSettingAsync(
        RaftSettings settings, bool fsync, string root, Proposer[] proposers, LatencyMerger merger, LatencyRecorder baselineRecorder,
        Dictionary<Key, Measured> results, Dictionary<(bool, int), List<BaselineRun>> baselines, CancellationToken cancellationToken)
    {
        // Every transport's cluster at once: an idle cluster only heartbeats (no saves), and the
        // runs of one round then share the disk's mood with their baseline.
        var clusters = new List<BenchCluster>();
        try
        {
            foreach (var transport in settings.Transports)
            {
                var directory = Path.Combine(root, BenchCluster.Describe(transport, fsync).Replace(", ", "-", StringComparison.Ordinal).Replace(' ', '-'));
                clusters.Add(await BenchCluster.StartAsync(transport, fsync, directory, cancellationToken).ConfigureAwait(false));
            }

            foreach (var cluster in clusters)
            {
                var leader = await cluster.WaitForLeaderAsync(_leaderTimeout, cancellationToken).ConfigureAwait(false);
                Session.Progress($"{BenchCluster.Describe(cluster.Transport, fsync)}: node {leader.Id} leads");
            }

            foreach (var concurrency in settings.Concurrency)
            {
                var runs = baselines[(fsync, concurrency)] = [];
                foreach (var cluster in clusters)
                {
                    results[new Key(fsync, cluster.Transport, concurrency)] = new Measured();
                    await SettleAsync(cancellationToken).ConfigureAwait(false);
                    var warm = await MeasureAsync(cluster, concurrency, settings.Warmup, proposers, merger, new ErrorLog(), cancellationToken).ConfigureAwait(false);
                    Session.Progress($"{Title(cluster, concurrency)} warm-up   {Describe(warm)}");
                }

                for (var run = 0; run < settings.Runs; run++)
                {
                    await SettleAsync(cancellationToken).ConfigureAwait(false);
                    var baseline = await LogBaseline.RunAsync(
                        Path.Combine(root, "baseline"), fsync, concurrency, settings.EntryBytes, settings.BaselineDuration, baselineRecorder, merger, cancellationToken).ConfigureAwait(false);
                    runs.Add(baseline);
                    Session.Progress(string.Create(CultureInfo.InvariantCulture, $"fsync {(fsync ? "on " : "off")} lone log  {concurrency,4}/save run {run + 1}/{settings.Runs}  {baseline.SavesPerSecond,9:N0} saves/s  {baseline.EntriesPerSecond,10:N0} entries/s  p50 {baseline.P50Micros,7:N1} µs  p99 {baseline.P99Micros,7:N1} µs"));
                    var round = new Dictionary<ClusterTransport, double>();
                    for (var k = 0; k < clusters.Count; k++)
                    {
                        // Rotate which cluster goes first from round to round.
                        var cluster = clusters[(k + run) % clusters.Count];
                        var measured = results[new Key(fsync, cluster.Transport, concurrency)];
                        await SettleAsync(cancellationToken).ConfigureAwait(false);
                        var outcome = await MeasureAsync(cluster, concurrency, settings.Duration, proposers, merger, measured.Errors, cancellationToken).ConfigureAwait(false);
                        measured.Runs.Add(outcome);
                        measured.DiskRatios.Add(outcome.CommitsPerSecond / baseline.EntriesPerSecond);
                        round[cluster.Transport] = outcome.CommitsPerSecond;
                        Session.Progress($"{Title(cluster, concurrency)} run {run + 1}/{settings.Runs}   {Describe(outcome)}");
                    }

                    if (round.TryGetValue(ClusterTransport.Rpc, out var rpc) && round.TryGetValue(ClusterTransport.Memory, out var memory))
                    {
                        results[new Key(fsync, ClusterTransport.Rpc, concurrency)].RpcToMemory.Add(rpc / memory);
                    }
                }
            }
        }
        finally
        {
            foreach (var cluster in clusters)
            {
                await cluster.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<ClusterRun> MeasureAsync(BenchCluster cluster, int concurrency, TimeSpan duration, Proposer[] proposers, LatencyMerger merger, ErrorLog errors, CancellationToken cancellationToken)
    {
        // The leader again before every run: should it have changed, the runs go to the new one.
        var leader = await cluster.WaitForLeaderAsync(_leaderTimeout, cancellationToken).ConfigureAwait(false);
        return await ClusterLoad.RunAsync(cluster, leader, proposers, concurrency, duration, merger, errors, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lets the previous run's last messages drain, and starts every run with a clean heap.</summary>
    private static async Task SettleAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }

    private static string Title(BenchCluster cluster, int concurrency) => string.Create(
        CultureInfo.InvariantCulture, $"fsync {(cluster.Fsync ? "on " : "off")} {(cluster.Transport == ClusterTransport.Rpc ? "rpc   " : "memory")}  c={concurrency,-4}");

    private static string Describe(ClusterRun run)
    {
        var errors = run.Errors > 0 ? string.Create(CultureInfo.InvariantCulture, $", {run.Errors} ERRORS") : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{run.CommitsPerSecond,9:N0} commits/s  p50 {run.P50Micros,7:N0} µs  p99 {run.P99Micros,7:N0} µs  leader {run.LeaderSavesPerSecond,6:N0} saves/s × {run.EntriesPerLeaderSave,5:N1} entries  CPU {run.CpuPercent,3:N0} %{errors}");
    }

    /// <summary>One measurement: an fsync setting, a transport and a number of callers.</summary>
    internal readonly record struct Key(bool Fsync, ClusterTransport Transport, int Concurrency);

    /// <summary>The runs of one measurement, with the ratios of each to the runs of its round.</summary>
    internal sealed class Measured
    {
        public List<ClusterRun> Runs { get; } = [];

        /// <summary>Commits/s over the entries/s of the lone-log baseline run just before.</summary>
        public List<double> DiskRatios { get; } = [];

        /// <summary>RPC cluster commits/s over the in-memory cluster's in the same round (RPC measurements only).</summary>
        public List<double> RpcToMemory { get; } = [];

        public ErrorLog Errors { get; } = new();
    }
}
