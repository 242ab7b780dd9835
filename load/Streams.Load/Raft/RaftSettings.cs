namespace Streams.Load.Raft;

/// <summary>Settings of <c>streams-load raft</c>.</summary>
internal sealed record RaftSettings
{
    /// <summary>How long each measured cluster run lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Warm-up of each cluster at each concurrency before its runs; not counted.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs per measurement; the median is reported.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>The numbers of closed-loop proposers to measure.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 1024];

    /// <summary>Payload bytes of each entry.</summary>
    public int EntryBytes { get; init; } = 100;

    /// <summary>The fsync settings to measure (on, off, or both).</summary>
    public IReadOnlyList<bool> Fsync { get; init; } = [true, false];

    /// <summary>The transports to measure.</summary>
    public IReadOnlyList<ClusterTransport> Transports { get; init; } = [ClusterTransport.Rpc, ClusterTransport.Memory];

    /// <summary>Where the logs go; null: a temporary directory, deleted afterwards.</summary>
    public string? Directory { get; init; }

    /// <summary>Also write the tables as Markdown here.</summary>
    public FileInfo? MarkdownFile { get; init; }

    /// <summary>How long each lone-log baseline run lasts: a quarter of a cluster run, at most 1 s.</summary>
    public TimeSpan BaselineDuration => Duration / 4 < TimeSpan.FromSeconds(1) ? Duration / 4 : TimeSpan.FromSeconds(1);
}
