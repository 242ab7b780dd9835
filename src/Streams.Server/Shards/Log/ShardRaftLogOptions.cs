using System.Globalization;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// Settings of a <see cref="ShardRaftLog"/>: where the shard's replica lives and the settings of
/// its segment log, which are forwarded to <see cref="SegmentLogOptions"/>. Call
/// <see cref="Validate"/> before use (<see cref="ShardRaftLog.OpenAsync"/> does).
/// </summary>
public sealed class ShardRaftLogOptions
{
    // Only read, for the defaults: the segment log's defaults are the shard's.
    private static readonly SegmentLogOptions _segmentDefaults = new() { Directory = "." };

    /// <summary>The directory of the shard replica: its segments, hard state and snapshot. Created when missing.</summary>
    public required string Directory { get; init; }

    /// <summary>A segment rolls when the next batch would take it beyond this size. Default 128 MiB; 4 KiB to 2 GiB - 1.</summary>
    public long SegmentSizeBytes { get; init; } = _segmentDefaults.SegmentSizeBytes;

    /// <summary>A segment rolls at the first append this long after its first batch. Default 1 hour.</summary>
    public TimeSpan SegmentMaxAge { get; init; } = _segmentDefaults.SegmentMaxAge;

    /// <summary>
    /// When entries are fsynced. <see cref="DurabilityPolicy.Always"/> (the default) completes
    /// <see cref="ShardRaftLog.SaveAsync"/> only once its entries are on disk, as Raft requires;
    /// the others trade that for throughput, and a crash may then lose acknowledged entries.
    /// </summary>
    public DurabilityPolicy Durability { get; init; } = DurabilityPolicy.Always;

    /// <summary>Time between two fsyncs under <see cref="DurabilityPolicy.Interval"/>. Default 50 ms; 1 ms to 1 hour.</summary>
    public TimeSpan FlushInterval { get; init; } = _segmentDefaults.FlushInterval;

    /// <summary>The codec batches of this shard are compressed with; opening fails at once when LZ4 is chosen and the system's liblz4 is missing.</summary>
    public BatchCodec Codec { get; init; } = _segmentDefaults.Codec;

    /// <summary>
    /// <see cref="ShardRaftLog.ApplyRetentionAsync"/> deletes segments whose newest record is
    /// older than this (and that are applied). Default 24 hours; 1 hour to 365 days.
    /// </summary>
    public TimeSpan Retention { get; init; } = _segmentDefaults.Retention;

    /// <summary>Throws an <see cref="ArgumentException"/> that lists every setting to change, if any.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Directory))
        {
            problems.Add("Directory is empty: set it to the directory of the shard replica (its segments, hard state and snapshot)");
        }

        if (SegmentSizeBytes is < SegmentLogOptions.MinSegmentSizeBytes or > SegmentLogOptions.MaxSegmentSizeBytes)
        {
            problems.Add(Invariant($"SegmentSizeBytes is {SegmentSizeBytes}: set it between {SegmentLogOptions.MinSegmentSizeBytes} (4 KiB) and {SegmentLogOptions.MaxSegmentSizeBytes} (2 GiB - 1)"));
        }

        if (SegmentMaxAge <= TimeSpan.Zero)
        {
            problems.Add(Invariant($"SegmentMaxAge is {SegmentMaxAge}: set it to a positive time span (default 1 hour)"));
        }

        if (!Enum.IsDefined(Durability))
        {
            problems.Add(Invariant($"Durability is {(int)Durability}: set it to Always, Interval or Never"));
        }

        if (Durability == DurabilityPolicy.Interval && (FlushInterval < TimeSpan.FromMilliseconds(1) || FlushInterval > TimeSpan.FromHours(1)))
        {
            problems.Add(Invariant($"FlushInterval is {FlushInterval}: under Interval durability set it between 1 ms and 1 hour (default 50 ms)"));
        }

        if (!Enum.IsDefined(Codec))
        {
            problems.Add(Invariant($"Codec is {(int)Codec}: set it to None or Lz4"));
        }

        if (Retention < SegmentLogOptions.MinRetention || Retention > SegmentLogOptions.MaxRetention)
        {
            problems.Add(Invariant($"Retention is {Retention}: set it between {SegmentLogOptions.MinRetention} (1 hour) and {SegmentLogOptions.MaxRetention} (365 days)"));
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid shard Raft log options: " + string.Join("; ", problems) + ".");
        }
    }

    /// <summary>The segment log's settings: the shard's, in the same directory.</summary>
    internal SegmentLogOptions ToSegmentLogOptions() => new()
    {
        Directory = Directory,
        SegmentSizeBytes = SegmentSizeBytes,
        SegmentMaxAge = SegmentMaxAge,
        Durability = Durability,
        FlushInterval = FlushInterval,
        Codec = Codec,
        Retention = Retention,
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
