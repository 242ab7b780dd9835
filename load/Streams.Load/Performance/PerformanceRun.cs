using System.Globalization;
using System.Runtime.InteropServices;
using Streams.Load.ClusterBench;
using Streams.Load.Engine;
using Streams.Load.Reporting;
using Streams.Load.Targets;

namespace Streams.Load.Performance;

/// <summary>
/// <c>streams-load report</c>: the performance report. For Streams, 1 node with RF 1 and 3 nodes
/// with RF 3, each under durability <c>always</c> and <c>interval</c>, 100 B and 1 KiB records:
/// the SDK producer's maximum throughput (closed loop), then its latency at half of that (open
/// loop); under <c>always</c> also the raw producer APIs and end-to-end latency through each way
/// of reading. Beside it NATS JetStream R1 and R3 (file storage), the same sizes and profiles.
/// Writes performance.md, performance/report.json and performance/report.html.
/// </summary>
internal static class PerformanceRun
{
    private static readonly int[] _sizes = [100, 1024];
    private static readonly string[] _durabilities = ["always", "interval"];
    private static readonly (int Nodes, int Replication)[] _topologies = [(1, 1), (3, 3)];

    public static async Task<int> RunAsync(PerformanceSettings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var work = settings.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "streams-load-report-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var outcomes = new List<ScenarioOutcome>();
        foreach (var (nodes, replication) in _topologies)
        {
            foreach (var durability in _durabilities)
            {
                var setupKey = string.Create(CultureInfo.InvariantCulture, $"streams-{nodes}n-rf{replication}-{durability}");
                Session.Progress($"{setupKey}: starting {nodes} node(s)");
                await using var deployment = await StreamsDeployment.StartAsync(nodes, replication, durability, Path.Combine(work, setupKey), cancellationToken).ConfigureAwait(false);
                foreach (var size in _sizes)
                {
                    await MaxThenHalfAsync(settings, ScenarioKind.Sdk, size, setupKey, deployment, null, outcomes, cancellationToken).ConfigureAwait(false);
                }

                if (durability == "always")
                {
                    foreach (var kind in new[] { ScenarioKind.PutRecords, ScenarioKind.Produce })
                    {
                        var spec = new ScenarioSpec(kind, 1024, Closed(settings, 16));
                        outcomes.Add(await RunOneAsync(spec, setupKey, deployment, null, cancellationToken).ConfigureAwait(false));
                    }

                    foreach (var kind in new[] { ScenarioKind.EndToEndGetRecords, ScenarioKind.EndToEndSubscribe, ScenarioKind.EndToEndGroup })
                    {
                        var spec = new ScenarioSpec(kind, 1024, Open(settings, settings.EndToEndRate));
                        outcomes.Add(await RunOneAsync(spec, setupKey, deployment, null, cancellationToken).ConfigureAwait(false));
                    }
                }
            }
        }

        if (!settings.SkipNats)
        {
            foreach (var replicas in new[] { 1, 3 })
            {
                var setupKey = string.Create(CultureInfo.InvariantCulture, $"nats-r{replicas}");
                Session.Progress($"{setupKey}: starting {replicas} nats-server(s)");
                await using var nats = await NatsDeployment.StartAsync(replicas, Path.Combine(work, setupKey), cancellationToken).ConfigureAwait(false);
                foreach (var size in _sizes)
                {
                    await MaxThenHalfAsync(settings, ScenarioKind.Nats, size, setupKey, null, nats, outcomes, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var report = new LoadReport("Streams performance", started, Machine(), settings.Command, Method(settings), outcomes);
        await File.WriteAllTextAsync(Path.Combine(settings.OutputDirectory, "performance.md"), MarkdownReport.Write(report), cancellationToken).ConfigureAwait(false);
        await ReportFiles.WriteAsync(report, Path.Combine(settings.OutputDirectory, "performance"), "report", cancellationToken).ConfigureAwait(false);
        Session.Progress($"wrote {Path.Combine(settings.OutputDirectory, "performance.md")} and performance/report.md, .json, .html beside it");
        ClusterBenchmarkRun.TryDelete(work);
        return 0;
    }

    /// <summary>Runs one scenario and prints its summary line.</summary>
    public static async Task<ScenarioOutcome> RunOneAsync(ScenarioSpec spec, string setupKey, StreamsDeployment? streams, NatsDeployment? nats, CancellationToken cancellationToken)
    {
        var key = spec.Key(setupKey);
        var target = ScenarioTargets.Create(spec, key, streams, nats);
        await using (target.ConfigureAwait(false))
        {
            var outcome = await new LoadRunner(spec.Profile, Session.Progress).RunAsync(key, target, cancellationToken).ConfigureAwait(false);
            Session.Progress(string.Create(CultureInfo.InvariantCulture, $"{key}: {outcome.RecordsPerSecond:N0} records/s, {outcome.MegabytesPerSecond:F1} MB/s, p50 {outcome.Latency.P50:F2} ms, p99 {outcome.Latency.P99:F2} ms, p99.9 {outcome.Latency.P999:F2} ms, max {outcome.Latency.Max:F2} ms, errors {outcome.Errors:N0}"));
            return outcome;
        }
    }

    // A closed loop's throughput is bounded by its virtual producers over the latency, so the
    // maximum is searched for: 4 times as many producers each step, until a step gains less than
    // 10 % or the next would pass the most allowed. The best step is reported, with the steps in its notes.
    private static async Task MaxThenHalfAsync(PerformanceSettings settings, ScenarioKind kind, int size, string setupKey, StreamsDeployment? streams, NatsDeployment? nats, List<ScenarioOutcome> outcomes, CancellationToken cancellationToken)
    {
        ScenarioOutcome? max = null;
        var steps = new List<string>();
        for (var producers = settings.VirtualProducers; ; producers *= 4)
        {
            var step = await RunOneAsync(new ScenarioSpec(kind, size, Closed(settings, producers)), setupKey, streams, nats, cancellationToken).ConfigureAwait(false);
            steps.Add(string.Create(CultureInfo.InvariantCulture, $"{producers:N0} producers {step.RecordsPerSecond:N0}/s (p50 {step.Latency.P50:F1} ms)"));
            var gained = max is null || step.RecordsPerSecond >= max.RecordsPerSecond * 1.1;
            if (max is null || step.RecordsPerSecond > max.RecordsPerSecond)
            {
                max = step;
            }

            if (!gained || producers > settings.MaxVirtualProducers / 4)
            {
                break;
            }
        }

        outcomes.Add(max! with { Notes = [.. max!.Notes, $"maximum searched over virtual producers (x4 a step until a step gains under 10 %): {string.Join("; ", steps)}; the highest is reported"] });
        if (max.RecordsPerSecond >= 2)
        {
            outcomes.Add(await RunOneAsync(new ScenarioSpec(kind, size, Open(settings, Math.Round(max.RecordsPerSecond / 2))), setupKey, streams, nats, cancellationToken).ConfigureAwait(false));
        }
    }

    private static LoadProfile Closed(PerformanceSettings settings, int producers) =>
        new() { Pacing = PacingKind.ClosedLoop, VirtualProducers = producers, Duration = settings.Duration, Warmup = settings.Warmup };

    private static LoadProfile Open(PerformanceSettings settings, double rate) =>
        new() { Pacing = PacingKind.Constant, Rate = rate, VirtualProducers = settings.VirtualProducers, Duration = settings.Duration, Warmup = settings.Warmup };

    public static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores ({cpu ?? "unknown CPU"}), {memory:F0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; servers and load generator on the same machine");
    }

    public static List<string> Method(PerformanceSettings settings) =>
    [
        "Everything runs on this one machine: the Streams nodes (or nats-servers) as separate processes on 127.0.0.1, and the load generator, which shares their cores. Figures from a shared, noisy machine: compare them with each other, in one run, more than with other machines.",
        string.Create(CultureInfo.InvariantCulture, $"Each scenario runs a {settings.Warmup.TotalSeconds:F0} s warm-up at its own pace (not counted: JIT, connections, caches), then {settings.Duration.TotalSeconds:F0} s measured. Each gets a fresh stream (4 shards for Streams; one stream for NATS)."),
        string.Create(CultureInfo.InvariantCulture, $"Maximum throughput is closed loop: virtual producers, each sending its next record when the last was acknowledged, all over one client (one connection per node). A closed loop delivers at most its producers divided by the latency, so the count is searched: {settings.VirtualProducers:N0}, then 4 times as many each step up to {settings.MaxVirtualProducers:N0}, until a step gains under 10 %; the highest is reported, the steps in its notes. The SDK producer batches them (5 ms linger), as an application's records would be. NATS: the same virtual producers over one connection, each publish awaiting its JetStream acknowledgement (NATS clients do not batch publishes)."),
        "Latency at half the maximum is open loop: records are sent at a constant rate of half the maximum measured just before, each at its intended time whether or not earlier ones were answered, and each record's latency is measured from its intended send time to its acknowledgement. A stall therefore shows in the latency of every record that should have been sent during it (no coordinated omission).",
        string.Create(CultureInfo.InvariantCulture, $"End to end is open loop at {settings.EndToEndRate:N0} records/s: from a record's intended send time (SDK producer) until a reader is handed it: GetRecords polling (10 ms pause after an empty read), SubscribeToShard (pushed), or the SDK's consumer group (polling, 10 ms idle delay)."),
        "Latencies go into a high-dynamic-range histogram (log-linear buckets, 3 significant digits) per scenario and per second; percentiles are nearest-rank. Records/s counts records acknowledged within the measured time.",
        "The guarantee column says what an acknowledgement meant. Streams' durability \"always\" acknowledges once the replicas that make a majority fsynced the batch (group commit: one fsync covers every batch appended while the previous one ran); \"interval\" once they wrote it, with an fsync every 50 ms. NATS JetStream (Debian's nats-server 2.9.10) acknowledges once the stream's replicas (a majority for R3) wrote the message to the OS: it does not fsync per message (checked with strace: no fsync before an acknowledgement; a stream's files are synced every 2 minutes), and that version has no setting to make it. So NATS is compared with Streams' \"interval\" (and \"never\" would be closer still); against \"always\" it does less work per acknowledgement.",
    ];
}
