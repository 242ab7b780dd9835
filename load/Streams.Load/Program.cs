using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Streams.Load;

var duration = DurationOption("--duration", "How long each measured run lasts (e.g. 4s, 500ms, 1m).", TimeSpan.FromSeconds(4));
var warmup = DurationOption("--warmup", "How long each measurement is warmed up before its runs; not counted.", TimeSpan.FromSeconds(1));
var runs = new Option<int>("--runs")
{
    Description = "How many times each measurement is repeated; the median is reported.",
    DefaultValueFactory = _ => 3,
};
runs.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() < 1)
    {
        result.AddError("--runs must be at least 1.");
    }
});
var serverProcess = new Option<bool>("--server-process")
{
    Description = "Run the server in a child process instead of in this one (client and server then do not share a GC or thread pool).",
};
var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the results as a Markdown table to this file." };
var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };

var rpc = new Command("rpc", "Measure Streams.Rpc (unary and server streaming over gRPC) against raw Kestrel HTTP/2 on the same server.")
{
    duration, warmup, runs, serverProcess, markdown, json,
};
rpc.SetAction((parse, cancellationToken) =>
{
    var settings = new LoadSettings
    {
        Duration = parse.GetValue(duration),
        Warmup = parse.GetValue(warmup),
        Runs = parse.GetValue(runs),
        ServerProcess = parse.GetValue(serverProcess),
        MarkdownFile = parse.GetValue(markdown),
        JsonFile = parse.GetValue(json),
    };
    return RpcBenchmark.RunAsync(settings, cancellationToken);
});

// The server half of `rpc --server-process`: serves until its standard input closes.
var serve = new Command("rpc-serve", "Serve the benchmark's gRPC and raw endpoints until standard input closes (used by rpc --server-process).")
{
    Hidden = true,
};
serve.SetAction((_, cancellationToken) => BenchmarkServer.ServeUntilStdinClosesAsync(cancellationToken));

// Diagnosis of the gRPC/raw gap: each side of Streams.Rpc against a hand-written gRPC peer.
var only = new Option<string?>("--only") { Description = "Only the scenarios whose key contains this text (unary-c1, unary-c64, stream-100B, stream-64KiB)." };
var breakdownDuration = DurationOption("--duration", "How long each measured run lasts.", TimeSpan.FromSeconds(3));
var breakdownWarmup = DurationOption("--warmup", "Warm-up per measurement; not counted.", TimeSpan.FromSeconds(1));
var breakdownRuns = new Option<int>("--runs") { Description = "Runs per measurement; the median is reported.", DefaultValueFactory = _ => 1 };
var breakdown = new Command("rpc-breakdown", "Diagnose the gRPC/raw gap: run every workload with our client or our server replaced by a hand-written gRPC peer.")
{
    breakdownDuration, breakdownWarmup, breakdownRuns, serverProcess, only,
};
breakdown.SetAction((parse, cancellationToken) => Breakdown.RunAsync(
    new LoadSettings
    {
        Duration = parse.GetValue(breakdownDuration),
        Warmup = parse.GetValue(breakdownWarmup),
        Runs = Math.Max(1, parse.GetValue(breakdownRuns)),
        ServerProcess = parse.GetValue(serverProcess),
    },
    parse.GetValue(only),
    cancellationToken));

// Storage: the segment log against the disk's own bandwidth.
var storageMegabytes = new Option<int>("--megabytes") { Description = "MiB written per measurement.", DefaultValueFactory = _ => 256 };
var storageRuns = new Option<int>("--runs") { Description = "Runs per measurement; the median is reported.", DefaultValueFactory = _ => 5 };
var storageDirectory = new Option<string?>("--dir") { Description = "Where to write (default: a temporary directory on the same disk as /tmp, deleted afterwards)." };
var noAllocations = new Option<bool>("--no-allocations") { Description = "Skip the BenchmarkDotNet allocation measurements (about a minute)." };
var storage = new Command("storage", "Measure the segment log: append MB/s and records/s under each durability policy beside the disk's sequential bandwidth, reads from the page cache, allocations per record.")
{
    storageMegabytes, storageRuns, storageDirectory, noAllocations, markdown,
};
storage.SetAction((parse, cancellationToken) => Streams.Load.Storage.StorageBenchmark.RunAsync(
    new Streams.Load.Storage.StorageSettings
    {
        Bytes = Math.Max(1, parse.GetValue(storageMegabytes)) * 1024L * 1024,
        Runs = Math.Max(1, parse.GetValue(storageRuns)),
        Directory = parse.GetValue(storageDirectory),
        MarkdownFile = parse.GetValue(markdown),
        Allocations = !parse.GetValue(noAllocations),
    },
    cancellationToken));

// Raft: commits of a 3-node cluster in one process, over loopback gRPC and in memory, with and without fsync.
var raftDuration = DurationOption("--duration", "How long each measured cluster run lasts.", TimeSpan.FromSeconds(2));
var raftWarmup = DurationOption("--warmup", "Warm-up of each cluster at each concurrency; not counted.", TimeSpan.FromSeconds(1));
var raftRuns = new Option<int>("--runs") { Description = "Runs per measurement; the median is reported.", DefaultValueFactory = _ => 3 };
var raftConcurrency = new Option<int[]>("--concurrency")
{
    Description = "Closed-loop proposers at the leader, one measurement per number, such as 1,1024 (1 shows latency; 1024 keeps both cores of a 2-core machine busy without fsync).",
    DefaultValueFactory = _ => [1, 1024],
    CustomParser = r => ParsePositive(r, "number of proposers", "Give at least one number of proposers, such as 1,1024."),
    HelpName = "list",
    AllowMultipleArgumentsPerToken = true,
};
var raftEntryBytes = new Option<int>("--entry-bytes") { Description = "Payload bytes per entry.", DefaultValueFactory = _ => 100 };
var raftFsync = new Option<string>("--fsync") { Description = "Measure with fsync on, off, or both.", DefaultValueFactory = _ => "both" };
raftFsync.AcceptOnlyFromAmong("both", "on", "off");
var raftTransport = new Option<string>("--transport") { Description = "Measure over loopback gRPC (rpc), the in-memory network (memory), or both.", DefaultValueFactory = _ => "both" };
raftTransport.AcceptOnlyFromAmong("both", "rpc", "memory");
var raftDirectory = new Option<string?>("--dir") { Description = "Where the logs go (default: a temporary directory on the same disk as /tmp, deleted afterwards)." };
var raft = new Command("raft", "Measure a 3-node Raft cluster in one process: commits/s and commit latency of small entries, over loopback gRPC and in memory, with and without fsync, beside a lone FileRaftLog writer.")
{
    raftDuration, raftWarmup, raftRuns, raftConcurrency, raftEntryBytes, raftFsync, raftTransport, raftDirectory, markdown,
};
foreach (var atLeastOne in new[] { raftRuns, raftEntryBytes })
{
    atLeastOne.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int>() < 1)
        {
            result.AddError($"{atLeastOne.Name} must be at least 1.");
        }
    });
}

raft.SetAction((parse, cancellationToken) =>
{
    var fsync = parse.GetValue(raftFsync);
    var transport = parse.GetValue(raftTransport);
    return Streams.Load.Raft.RaftBenchmark.RunAsync(
        new Streams.Load.Raft.RaftSettings
        {
            Duration = parse.GetValue(raftDuration),
            Warmup = parse.GetValue(raftWarmup),
            Runs = parse.GetValue(raftRuns),
            Concurrency = parse.GetValue(raftConcurrency)!,
            EntryBytes = parse.GetValue(raftEntryBytes),
            Fsync = fsync switch { "on" => [true], "off" => [false], _ => [true, false] },
            Transports = transport switch
            {
                "rpc" => [Streams.Load.Raft.ClusterTransport.Rpc],
                "memory" => [Streams.Load.Raft.ClusterTransport.Memory],
                _ => [Streams.Load.Raft.ClusterTransport.Rpc, Streams.Load.Raft.ClusterTransport.Memory],
            },
            Directory = parse.GetValue(raftDirectory),
            MarkdownFile = parse.GetValue(markdown),
        },
        cancellationToken);
});

// Streams: a 3-node cluster of node processes; PutRecords/Produce throughput, PutRecord and put-to-subscriber latency.
var streamsQuick = new Option<bool>("--quick") { Description = "A ~30 s smoke run: one short run per figure (1.2s throughput, 2s latency, 0.3s warm-up); other options still override." };
var streamsDuration = new Option<TimeSpan?>("--duration") { Description = "How long each throughput run lasts (default 3s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
var streamsLatencyDuration = new Option<TimeSpan?>("--latency-duration") { Description = "How long each latency run lasts (default 5s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
var streamsWarmup = new Option<TimeSpan?>("--warmup") { Description = "Warm-up of each measurement, not counted (default 1s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
var streamsRuns = new Option<int?>("--runs") { Description = "Runs per measurement; the median is reported (default 3)." };
var streamsInFlight = new Option<int?>("--inflight") { Description = "Batches in flight in the throughput workloads: PutRecords callers, and the Produce windows summed (default 16)." };
var streamsBatch = new Option<int?>("--batch") { Description = "Records per PutRecords call and per Produce batch (default 500, the API's limit)." };
var streamsRate = new Option<int?>("--rate") { Description = "PutRecord calls per second in the latency workloads (default 1000)." };
var streamsDurability = new Option<string>("--durability") { Description = "The nodes' durability policy.", DefaultValueFactory = _ => "always" };
streamsDurability.AcceptOnlyFromAmong("always", "interval", "never");
var streamsOnly = new Option<string[]>("--only")
{
    Description = "Only these workloads: put, produce, producer (the SDK's), latency, e2e (comma-separated).",
    AllowMultipleArgumentsPerToken = true,
    HelpName = "list",
};
var streamsDirectory = new Option<string?>("--dir") { Description = "Where the nodes' data and logs go (default: a temporary directory, deleted afterwards; logs kept when something failed)." };
foreach (var atLeastOne in new[] { streamsRuns, streamsInFlight, streamsBatch, streamsRate })
{
    atLeastOne.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int?>() is < 1)
        {
            result.AddError($"{atLeastOne.Name} must be at least 1.");
        }
    });
}

streamsOnly.Validators.Add(result =>
{
    foreach (var key in SplitList(result.GetValueOrDefault<string[]>()))
    {
        if (!Streams.Load.ClusterBench.StreamsSettings.WorkloadKeys.Contains(key))
        {
            result.AddError($"--only: '{key}' is not a workload; use {string.Join(", ", Streams.Load.ClusterBench.StreamsSettings.WorkloadKeys)}.");
        }
    }
});
var streams = new Command("streams", "Measure a 3-node Streams cluster (node processes, replication factor 3, fsync by default): PutRecords and Produce throughput with 100 B and 1 KiB records, the SDK's producer with 100 B records beside them, PutRecord latency at a fixed rate, put-to-subscriber latency.")
{
    streamsQuick, streamsDuration, streamsLatencyDuration, streamsWarmup, streamsRuns, streamsInFlight, streamsBatch, streamsRate, streamsDurability, streamsOnly, streamsDirectory, markdown,
};
streams.SetAction((parse, cancellationToken) =>
{
    var quick = parse.GetValue(streamsQuick);
    var defaults = quick ? Streams.Load.ClusterBench.StreamsSettings.QuickDefaults : new Streams.Load.ClusterBench.StreamsSettings();
    var only = SplitList(parse.GetValue(streamsOnly));
    return Streams.Load.ClusterBench.StreamsBenchmark.RunAsync(
        defaults with
        {
            Duration = parse.GetValue(streamsDuration) ?? defaults.Duration,
            LatencyDuration = parse.GetValue(streamsLatencyDuration) ?? defaults.LatencyDuration,
            Warmup = parse.GetValue(streamsWarmup) ?? defaults.Warmup,
            Runs = parse.GetValue(streamsRuns) ?? defaults.Runs,
            InFlight = parse.GetValue(streamsInFlight) ?? defaults.InFlight,
            BatchRecords = parse.GetValue(streamsBatch) ?? defaults.BatchRecords,
            Rate = parse.GetValue(streamsRate) ?? defaults.Rate,
            Durability = parse.GetValue(streamsDurability) ?? defaults.Durability,
            Only = only.Count > 0 ? only : defaults.Only,
            Directory = parse.GetValue(streamsDirectory),
            MarkdownFile = parse.GetValue(markdown),
        },
        cancellationToken);
});

// Firehose: delivery streams into s3rver; steady-rate delivery and the drain of a backlog.
var firehoseAllocations = new Option<bool>("--allocations") { Description = "Only measure the object builder's allocation per record with BenchmarkDotNet (about a minute; no cluster)." };
var firehoseQuick = new Option<bool>("--quick") { Description = "A short smoke run (< 1 minute): 4 s per rate, a 30 MB backlog; other options still override." };
var firehoseDuration = new Option<TimeSpan?>("--duration") { Description = "How long each steady run puts records (default 20s).", CustomParser = r => ParseDuration(r), HelpName = "duration" };
var firehoseRates = new Option<int[]>("--rates")
{
    Description = "Steady put rates in records/s, one run each, such as 2000,10000 (the default).",
    CustomParser = r => ParsePositive(r, "rate"),
    HelpName = "list",
    AllowMultipleArgumentsPerToken = true,
};
var firehoseNodes = new Option<int[]>("--nodes")
{
    Description = "Cluster sizes to measure, each with its own cluster, such as 1,3 (default 1).",
    CustomParser = r => ParsePositive(r, "node count"),
    HelpName = "list",
    AllowMultipleArgumentsPerToken = true,
};
var firehoseDrain = new Option<int?>("--drain-megabytes") { Description = "The backlog put before the drain run's delivery stream is created, in MB (default 200)." };
var firehoseRuns = new Option<int?>("--runs") { Description = "Runs per measurement; the median is reported (default 1)." };
var firehoseDirectory = new Option<string?>("--dir") { Description = "Where the nodes' data, s3rver's objects and the logs go (default: a temporary directory, deleted afterwards; logs kept when something failed)." };
foreach (var atLeastOne in new[] { firehoseDrain, firehoseRuns })
{
    atLeastOne.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int?>() is < 1)
        {
            result.AddError($"{atLeastOne.Name} must be at least 1.");
        }
    });
}

var firehose = new Command("firehose", "Measure Firehose delivery into s3rver (Node.js, tests/interop/node): a 4-shard stream per run on a 1-node (and with --nodes 1,3 a 3-node) cluster, steady open-loop puts of 1 KiB records delivered with 5 MiB / 1 s buffering (S3 MB/s, objects/s, Describe's lag, put-to-listed latency), and the drain of a backlog.")
{
    firehoseQuick, firehoseDuration, firehoseRates, firehoseNodes, firehoseDrain, firehoseRuns, streamsDurability, firehoseDirectory, markdown, firehoseAllocations,
};
firehose.SetAction((parse, cancellationToken) =>
{
    if (parse.GetValue(firehoseAllocations))
    {
        return Task.FromResult(Streams.Load.Firehose.FirehoseAllocations.Run());
    }

    var defaults = parse.GetValue(firehoseQuick) ? Streams.Load.Firehose.FirehoseSettings.QuickDefaults : new Streams.Load.Firehose.FirehoseSettings();
    var rates = parse.GetValue(firehoseRates);
    var nodes = parse.GetValue(firehoseNodes);
    return Streams.Load.Firehose.FirehoseBenchmark.RunAsync(
        defaults with
        {
            Duration = parse.GetValue(firehoseDuration) ?? defaults.Duration,
            Rates = rates is { Length: > 0 } ? rates : defaults.Rates,
            Nodes = nodes is { Length: > 0 } ? nodes : defaults.Nodes,
            DrainMegabytes = parse.GetValue(firehoseDrain) ?? defaults.DrainMegabytes,
            Runs = parse.GetValue(firehoseRuns) ?? defaults.Runs,
            Durability = parse.GetValue(streamsDurability) ?? defaults.Durability,
            Directory = parse.GetValue(firehoseDirectory),
            MarkdownFile = parse.GetValue(markdown),
        },
        cancellationToken);
});

var root = new RootCommand("Load generator and benchmarks for Streams.") { rpc, breakdown, serve, storage, raft, streams, firehose, Streams.Load.Performance.LoadCommands.Run(), Streams.Load.Performance.LoadCommands.Report() };
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) };
return await root.Parse(args).InvokeAsync(configuration).ConfigureAwait(false);

static Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue)
{
    var option = new Option<TimeSpan>(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
        HelpName = "duration",
    };
    return option;
}

static List<string> SplitList(string[]? values) =>
    [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct()];

static int[] ParsePositive(ArgumentResult result, string what, string? noneError = null)
{
    // Accepts "1,3" as well as "1 3".
    var values = new List<int>();
    foreach (var part in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
    {
        if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
        {
            result.AddError($"'{part}' is not a positive {what}.");
            return [];
        }

        values.Add(value);
    }

    if (values.Count == 0 && noneError is not null)
    {
        result.AddError(noneError);
    }

    return [.. values.Distinct()];
}

static TimeSpan ParseDuration(ArgumentResult result) => DurationText.ParseArgument(result);
