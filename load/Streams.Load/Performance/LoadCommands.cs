using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Streams.Load.ClusterBench;
using Streams.Load.Engine;
using Streams.Load.Reporting;
using Streams.Load.Targets;

namespace Streams.Load.Performance;

/// <summary>The <c>run</c> (one scenario) and <c>report</c> (the performance report) commands.</summary>
internal static class LoadCommands
{
    public static Command Run()
    {
        var scenario = new Option<ScenarioKind>("--scenario") { Description = $"What to drive: {string.Join(", ", Enum.GetNames<ScenarioKind>().Select(n => n.ToLowerInvariant()))}.", DefaultValueFactory = _ => ScenarioKind.Sdk };
        var endpoints = new Option<string[]>("--endpoints") { Description = "A running Streams cluster's gRPC addresses (http://host:7400,...); without it the harness starts one.", AllowMultipleArgumentsPerToken = true };
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the cluster the harness starts (1 or 3 are usual).", DefaultValueFactory = _ => 1 };
        var replication = new Option<int?>("--replication-factor") { Description = "Replicas per shard (default: the number of nodes)." };
        var durability = new Option<string>("--durability") { Description = "Durability of the cluster the harness starts: always, interval or never.", DefaultValueFactory = _ => "always" };
        var natsReplicas = new Option<int>("--nats-replicas") { Description = "For --scenario nats: 1 server (R1) or 3 (R3).", DefaultValueFactory = _ => 1 };
        var recordBytes = new Option<int>("--record-bytes") { Description = "Bytes of data per record.", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch") { Description = "Records per operation for putrecords and produce.", DefaultValueFactory = _ => 100 };
        var shards = new Option<int>("--shards") { Description = "Shards of the stream.", DefaultValueFactory = _ => 4 };
        var pacing = new Option<PacingKind>("--pacing") { Description = "closedloop (maximum throughput), constant (open loop at --rate) or ramp (open loop from --ramp-from to --rate).", DefaultValueFactory = _ => PacingKind.ClosedLoop };
        var rate = new Option<double>("--rate") { Description = "Operations per second (open loop); where a ramp ends." };
        var rampFrom = new Option<double>("--ramp-from") { Description = "Where a ramp starts, in operations per second." };
        var duration = Duration("--duration", "Measured time.", TimeSpan.FromSeconds(10));
        var warmup = Duration("--warmup", "Warm-up before it, not counted.", TimeSpan.FromSeconds(3));
        var interval = Duration("--interval", "Timeline interval.", TimeSpan.FromSeconds(1));
        var producers = new Option<int>("--producers") { Description = "Virtual producers (closed loop: workers; open loop: producers the operations are dealt to).", DefaultValueFactory = _ => 64 };
        var fakeDelay = Duration("--fake-delay", "For --scenario fake: each operation's fixed delay.", TimeSpan.FromMilliseconds(20));
        var fakeStallAt = Duration("--fake-stall-at", "For --scenario fake: when a stall starts, from the start of the warm-up.", TimeSpan.FromSeconds(5));
        var fakeStallFor = new Option<TimeSpan>("--fake-stall-for") { Description = "For --scenario fake: how long the stall lasts (default none).", CustomParser = ParseDuration, HelpName = "duration" };
        var output = new Option<string?>("--out") { Description = "Where report.md, report.json and report.html go (default artifacts/load/<scenario>-<time>)." };
        var work = new Option<string?>("--dir") { Description = "Where node data and logs go (default a temporary directory, deleted afterwards)." };
        var command = new Command("run", "Run one scenario with a live progress line, then print a summary and write Markdown, JSON and HTML reports.")
        {
            scenario, endpoints, nodes, replication, durability, natsReplicas, recordBytes, batch, shards, pacing, rate, rampFrom, duration, warmup, interval, producers, fakeDelay, fakeStallAt, fakeStallFor, output, work,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var profile = new LoadProfile
            {
                Pacing = parse.GetValue(pacing),
                Rate = parse.GetValue(rate),
                RampFrom = parse.GetValue(rampFrom),
                Duration = parse.GetValue(duration),
                Warmup = parse.GetValue(warmup),
                Interval = parse.GetValue(interval),
                VirtualProducers = parse.GetValue(producers),
            };
            try
            {
                profile.Validate();
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
                return 2;
            }

            var spec = new ScenarioSpec(parse.GetValue(scenario), parse.GetValue(recordBytes), profile)
            {
                Batch = parse.GetValue(batch),
                Shards = parse.GetValue(shards),
                FakeDelay = parse.GetValue(fakeDelay),
                FakeStallStart = parse.GetValue(fakeStallAt),
                FakeStallLength = parse.GetValue(fakeStallFor),
            };
            var directory = parse.GetValue(work) ?? Path.Combine(Path.GetTempPath(), "streams-load-run-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            var started = DateTimeOffset.UtcNow;
            StreamsDeployment? streams = null;
            NatsDeployment? nats = null;
            try
            {
                var setupKey = "fake";
                if (spec.Kind == ScenarioKind.Nats)
                {
                    nats = await NatsDeployment.StartAsync(parse.GetValue(natsReplicas), Path.Combine(directory, "nats"), cancellationToken).ConfigureAwait(false);
                    setupKey = "nats-r" + nats.Replicas.ToString(CultureInfo.InvariantCulture);
                }
                else if (spec.Kind != ScenarioKind.Fake)
                {
                    var given = (parse.GetValue(endpoints) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
                    var nodeCount = parse.GetValue(nodes);
                    streams = given.Count > 0
                        ? StreamsDeployment.Existing([.. given.Select(e => new Uri(e))], parse.GetValue(replication) ?? Math.Min(3, given.Count))
                        : await StreamsDeployment.StartAsync(nodeCount, parse.GetValue(replication) ?? nodeCount, parse.GetValue(durability) ?? "always", directory, cancellationToken).ConfigureAwait(false);
                    setupKey = string.Create(CultureInfo.InvariantCulture, $"streams-{streams.Nodes}n-rf{streams.ReplicationFactor}");
                }

                var outcome = await PerformanceRun.RunOneAsync(spec, setupKey, streams, nats, cancellationToken).ConfigureAwait(false);
                var report = new LoadReport($"Streams load: {outcome.Key}", started, PerformanceRun.Machine(), "streams-load " + string.Join(' ', parse.Tokens.Select(t => t.Value)), PerformanceRun.Method(new PerformanceSettings { Duration = profile.Duration, Warmup = profile.Warmup, VirtualProducers = profile.VirtualProducers }), [outcome]);
                var target = parse.GetValue(output) ?? Path.Combine("artifacts", "load", outcome.Key + "-" + started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
                await ReportFiles.WriteAsync(report, target, "report", cancellationToken).ConfigureAwait(false);
                Console.WriteLine();
                Console.WriteLine(MarkdownReport.Write(report with { Method = [] }));
                Console.WriteLine($"reports: {Path.Combine(target, "report.md")}, report.json, report.html");
                return outcome.Errors > 0 ? 1 : 0;
            }
            catch (Exception ex) when (ex is Rpc.RpcException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // The target could not be set up (a wrong address, a cluster not running): say so in one line.
                await Console.Error.WriteLineAsync($"streams-load: could not set up the scenario: {ex.Message} (check --endpoints, or that the cluster is running)").ConfigureAwait(false);
                return 2;
            }
            finally
            {
                if (streams is not null)
                {
                    await streams.DisposeAsync().ConfigureAwait(false);
                }

                if (nats is not null)
                {
                    await nats.DisposeAsync().ConfigureAwait(false);
                }

                if (parse.GetValue(work) is null)
                {
                    ClusterBenchmarkRun.TryDelete(directory);
                }
            }
        });
        return command;
    }

    public static Command Report()
    {
        var quick = new Option<bool>("--quick") { Description = "4 s measured and 1 s warm-up per scenario instead of 10 s and 3 s (a smoke run; figures are rougher)." };
        var duration = new Option<TimeSpan?>("--duration") { Description = "Measured time per scenario (default 10s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
        var warmup = new Option<TimeSpan?>("--warmup") { Description = "Warm-up per scenario (default 3s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
        var producers = new Option<int>("--producers") { Description = "Virtual producers of the first maximum-throughput step (4 times as many each further step).", DefaultValueFactory = _ => 512 };
        var maxProducers = new Option<int>("--max-producers") { Description = "The most virtual producers the maximum-throughput search tries.", DefaultValueFactory = _ => 32_768 };
        var endToEndRate = new Option<double>("--e2e-rate") { Description = "Records per second of the end-to-end runs.", DefaultValueFactory = _ => 1_000 };
        var skipNats = new Option<bool>("--skip-nats") { Description = "Leave NATS JetStream out." };
        var output = new Option<string>("--out") { Description = "Where performance.md goes (performance/report.json and .html beside it).", DefaultValueFactory = _ => "docs" };
        var work = new Option<string?>("--dir") { Description = "Where node data, NATS stores and logs go while it runs (default a temporary directory)." };
        var command = new Command("report", "Regenerate the performance report (docs/performance.md, docs/performance/report.json and report.html): Streams 1 node RF 1 and 3 nodes RF 3, durability always and interval, 100 B and 1 KiB, maximum throughput and latency at half of it, end to end, beside NATS JetStream R1 and R3.")
        {
            quick, duration, warmup, producers, maxProducers, endToEndRate, skipNats, output, work,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var isQuick = parse.GetValue(quick);
            return PerformanceRun.RunAsync(
                new PerformanceSettings
                {
                    Duration = parse.GetValue(duration) ?? (isQuick ? TimeSpan.FromSeconds(4) : TimeSpan.FromSeconds(10)),
                    Warmup = parse.GetValue(warmup) ?? (isQuick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3)),
                    VirtualProducers = parse.GetValue(producers),
                    MaxVirtualProducers = parse.GetValue(maxProducers),
                    EndToEndRate = parse.GetValue(endToEndRate),
                    SkipNats = parse.GetValue(skipNats),
                    OutputDirectory = parse.GetValue(output)!,
                    WorkDirectory = parse.GetValue(work),
                    Command = "dotnet run -c Release --project load/Streams.Load -- " + string.Join(' ', parse.Tokens.Select(t => t.Value)),
                },
                cancellationToken);
        });
        return command;
    }

    private static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = ParseDuration, HelpName = "duration" };

    // Zero is allowed here: it says "none" for --fake-stall-for.
    private static TimeSpan ParseDuration(ArgumentResult result) => DurationText.ParseArgument(result, allowZero: true);
}
