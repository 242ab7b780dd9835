namespace Streams.Load.Firehose;

/// <summary>Settings of <c>streams-load firehose</c>.</summary>
internal sealed record FirehoseSettings
{
    /// <summary>Cluster sizes to measure, each with its own cluster (replication factor = nodes).</summary>
    public IReadOnlyList<int> Nodes { get; init; } = [1];

    /// <summary>Steady put rates, records per second (open loop).</summary>
    public IReadOnlyList<int> Rates { get; init; } = [2_000, 10_000];

    /// <summary>Data bytes per record.</summary>
    public int RecordBytes { get; init; } = 1024;

    /// <summary>How long each steady run puts records.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The backlog put before the drain run's delivery stream is created, in MB (10^6 B of record data).</summary>
    public int DrainMegabytes { get; init; } = 200;

    /// <summary>Runs per measurement; the median is reported.</summary>
    public int Runs { get; init; } = 1;

    /// <summary>Shards of each stream.</summary>
    public int Shards { get; init; } = 4;

    /// <summary>The delivery streams' buffering: an object is closed at this size (MiB) ...</summary>
    public int BufferingMegabytes { get; init; } = 5;

    /// <summary>... or this long after its first record.</summary>
    public int BufferingSeconds { get; init; } = 1;

    /// <summary>The nodes' durability policy.</summary>
    public string Durability { get; init; } = "always";

    /// <summary>PutRecords callers of the drain run's backlog (closed loop).</summary>
    public int DrainCallers { get; init; } = 8;

    /// <summary>Records per PutRecords call of the drain run's backlog.</summary>
    public int DrainBatchRecords { get; init; } = 500;

    /// <summary>Put-to-listed samples wanted per steady run (every n-th record is one).</summary>
    public int E2eSamples { get; init; } = 4_000;

    /// <summary>The pause between two listings of the bucket.</summary>
    public TimeSpan ListPause { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long delivery may take to catch up after the last put before the run is declared stuck.</summary>
    public TimeSpan CatchUpTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>How long a call may take (the gRPC deadline).</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where data and logs go; null: a temporary directory, deleted afterwards (logs kept when something failed).</summary>
    public string? Directory { get; init; }

    /// <summary>The <c>--quick</c> smoke settings were used.</summary>
    public bool Quick { get; init; }

    /// <summary>Also write the report as Markdown here.</summary>
    public FileInfo? MarkdownFile { get; init; }

    /// <summary>The <c>--quick</c> smoke run: short steady runs and a small backlog.</summary>
    public static FirehoseSettings QuickDefaults { get; } = new()
    {
        Duration = TimeSpan.FromSeconds(4),
        DrainMegabytes = 30,
        Quick = true,
    };
}
