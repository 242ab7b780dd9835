namespace Streams.Raft.Storage;

/// <summary>Where and how a <see cref="FileRaftLog"/> keeps its files.</summary>
public sealed class FileRaftLogOptions
{
    /// <summary>The default <see cref="SegmentBytes"/>: 64 MiB.</summary>
    public const long DefaultSegmentBytes = 64L * 1024 * 1024;

    /// <summary>The directory holding the log; created if missing. One open log per directory.</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// The size at which the active segment file rolls over to a new one. Compaction deletes
    /// whole segment files, so this is also the granularity at which disk space comes back. A
    /// single write larger than this gets a segment of its own.
    /// </summary>
    public long SegmentBytes { get; init; } = DefaultSegmentBytes;

    /// <summary>
    /// True (the default) to fsync every write before it completes. False only for benchmarks
    /// "without fsync": a crash may then lose acknowledged writes or leave damage that recovery
    /// refuses.
    /// </summary>
    public bool Fsync { get; init; } = true;
}
