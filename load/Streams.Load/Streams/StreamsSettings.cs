namespace Streams.Load.ClusterBench;

/// <summary>Settings of <c>streams-load streams</c>.</summary>
internal sealed record StreamsSettings
{
    /// <summary>Every workload, by key, in the order they run.</summary>
    public static IReadOnlyList<string> WorkloadKeys { get; } = ["put", "produce", "producer", "latency", "e2e"];

    /// <summary>How long each measured throughput run lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long each measured latency run (open loop at <see cref="Rate"/>) lasts.</summary>
    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Warm-up of each measurement before its runs; not counted.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs per measurement; the median is reported.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Batches in flight in the throughput workloads: PutRecords callers, or Produce window summed over the streams.</summary>
    public int InFlight { get; init; } = 16;

    /// <summary>Records per PutRecords call and per Produce batch.</summary>
    public int BatchRecords { get; init; } = 500;

    /// <summary>Record sizes (data bytes) of the throughput workloads.</summary>
    public IReadOnlyList<int> RecordSizes { get; init; } = [100, 1024];

    /// <summary>Callers of the SDK's producer in the producer workload, each sending as fast as it takes records.</summary>
    public int ProducerCallers { get; init; } = 4;

    /// <summary>Data bytes of each record in the producer workload.</summary>
    public int ProducerRecordBytes { get; init; } = 100;

    /// <summary>PutRecord calls per second in the latency workloads (open loop).</summary>
    public int Rate { get; init; } = 1000;

    /// <summary>Data bytes of each record in the latency workloads.</summary>
    public int LatencyRecordBytes { get; init; } = 100;

    /// <summary>Shards of the stream.</summary>
    public int Shards { get; init; } = 4;

    /// <summary>Nodes in the cluster, and the replication factor.</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>The nodes' durability policy: always (fsync before acknowledging), interval or never.</summary>
    public string Durability { get; init; } = "always";

    /// <summary>The workloads to run (keys of <see cref="WorkloadKeys"/>).</summary>
    public IReadOnlyList<string> Only { get; init; } = WorkloadKeys;

    /// <summary>Where data and logs go; null: a temporary directory, deleted afterwards (logs kept when something failed).</summary>
    public string? Directory { get; init; }

    /// <summary>Before measuring, wait (up to 30 s) until every shard is led by its preferred replica, as the cluster's leader balancing makes it.</summary>
    public bool AwaitPreferredLeaders { get; init; } = true;

    /// <summary>The <c>--quick</c> smoke settings were used.</summary>
    public bool Quick { get; init; }

    /// <summary>Also write the report as Markdown here.</summary>
    public FileInfo? MarkdownFile { get; init; }

    /// <summary>How long a call may take before it fails (the gRPC deadline).</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After the last put of an end-to-end run, how long to wait for subscribers to see every acknowledged record.</summary>
    public TimeSpan DeliveryGrace { get; init; } = TimeSpan.FromSeconds(5);

    public bool Includes(string workload) => Only.Contains(workload, StringComparer.Ordinal);

    /// <summary>The <c>--quick</c> smoke run: one short run of each measurement.</summary>
    public static StreamsSettings QuickDefaults { get; } = new()
    {
        Duration = TimeSpan.FromSeconds(1.2),
        LatencyDuration = TimeSpan.FromSeconds(2),
        Warmup = TimeSpan.FromSeconds(0.3),
        Runs = 1,
        AwaitPreferredLeaders = false,
        Quick = true,
    };
}
