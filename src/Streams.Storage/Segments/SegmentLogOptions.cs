using System.Globalization;
using Streams.Storage.Batches;

namespace Streams.Storage.Segments;

/// <summary>Settings of a <see cref="SegmentLog"/>. Call <see cref="Validate"/> before use (OpenAsync does).</summary>
public sealed class SegmentLogOptions
{
    /// <summary>The smallest <see cref="SegmentSizeBytes"/> accepted (4 KiB).</summary>
    public const long MinSegmentSizeBytes = 4 * 1024;

    /// <summary>
    /// The largest <see cref="SegmentSizeBytes"/> accepted (2 GiB - 1): file positions in the offset
    /// index are 32-bit, and a segment exceeds its size by at most one batch.
    /// </summary>
    public const long MaxSegmentSizeBytes = int.MaxValue;

    /// <summary>The smallest <see cref="IndexIntervalBytes"/> accepted: one batch header.</summary>
    public const int MinIndexIntervalBytes = 72;

    /// <summary>The largest <see cref="IndexIntervalBytes"/> accepted (16 MiB).</summary>
    public const int MaxIndexIntervalBytes = 16 * 1024 * 1024;

    /// <summary>The shortest <see cref="Retention"/> accepted (1 hour).</summary>
    public static TimeSpan MinRetention => TimeSpan.FromHours(1);

    /// <summary>The longest <see cref="Retention"/> accepted (365 days).</summary>
    public static TimeSpan MaxRetention => TimeSpan.FromDays(365);

    /// <summary>The directory of the log's segment files; created when missing. One log per directory.</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// A segment rolls when the next batch would take it beyond this size. A batch larger than
    /// this gets a segment of its own. Default 128 MiB.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>A segment rolls at the first append this long after its first batch. Default 1 hour.</summary>
    public TimeSpan SegmentMaxAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Bytes of log between two entries of the sparse offset index. Default 4 KiB.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>When appended batches are fsynced. Default <see cref="DurabilityPolicy.Always"/> (group commit).</summary>
    public DurabilityPolicy Durability { get; init; } = DurabilityPolicy.Always;

    /// <summary>Time between two fsyncs under <see cref="DurabilityPolicy.Interval"/>. Default 50 ms.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// <see cref="SegmentLog.ApplyRetention"/> deletes a segment whose newest batch (by
    /// MaxTimestampMs) is older than this. Default 24 hours; 1 hour to 365 days.
    /// </summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// When set, <see cref="SegmentLog.ApplyRetention"/> also deletes the oldest segments while the
    /// log's total size exceeds this many bytes. Default null: no size limit.
    /// </summary>
    public long? RetentionBytes { get; init; }

    /// <summary>
    /// The codec writers of this log compress batches with. The log stores batches as they come;
    /// this setting exists so that opening a log configured for LZ4 fails at once, with the package
    /// to install, when the system's liblz4 is missing. Default <see cref="BatchCodec.None"/>.
    /// </summary>
    public BatchCodec Codec { get; init; } = BatchCodec.None;

    /// <summary>
    /// When true, opening checks the CRC of every batch of every closed segment, not only of the
    /// last segment and of each closed segment's batches after its last offset index entry; damage
    /// anywhere then fails the open. It reads the whole log, so it is off by default: without it
    /// damage in a closed segment is found when a reader reaches it (never handed out) or when
    /// its indexes are rebuilt.
    /// </summary>
    public bool VerifyAllSegmentsOnOpen { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> that lists every setting to change, if any.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Directory))
        {
            problems.Add("Directory is empty: set it to the directory that holds (or will hold) the log's segments");
        }

        if (SegmentSizeBytes is < MinSegmentSizeBytes or > MaxSegmentSizeBytes)
        {
            problems.Add(Invariant($"SegmentSizeBytes is {SegmentSizeBytes}: set it between {MinSegmentSizeBytes} (4 KiB) and {MaxSegmentSizeBytes} (2 GiB - 1)"));
        }

        if (SegmentMaxAge <= TimeSpan.Zero)
        {
            problems.Add(Invariant($"SegmentMaxAge is {SegmentMaxAge}: set it to a positive time span (default 1 hour)"));
        }

        if (IndexIntervalBytes is < MinIndexIntervalBytes or > MaxIndexIntervalBytes)
        {
            problems.Add(Invariant($"IndexIntervalBytes is {IndexIntervalBytes}: set it between {MinIndexIntervalBytes} and {MaxIndexIntervalBytes} (default 4096)"));
        }

        if (!Enum.IsDefined(Durability))
        {
            problems.Add(Invariant($"Durability is {(int)Durability}: set it to Always, Interval or Never"));
        }

        if (Durability == DurabilityPolicy.Interval && (FlushInterval < TimeSpan.FromMilliseconds(1) || FlushInterval > TimeSpan.FromHours(1)))
        {
            problems.Add(Invariant($"FlushInterval is {FlushInterval}: under Interval durability set it between 1 ms and 1 hour (default 50 ms)"));
        }

        if (Retention < MinRetention || Retention > MaxRetention)
        {
            problems.Add(Invariant($"Retention is {Retention}: set it between {MinRetention} (1 hour) and {MaxRetention} (365 days)"));
        }

        if (!Enum.IsDefined(Codec))
        {
            problems.Add(Invariant($"Codec is {(int)Codec}: set it to None or Lz4"));
        }

        if (RetentionBytes is <= 0)
        {
            problems.Add(Invariant($"RetentionBytes is {RetentionBytes}: set it to a positive number of bytes, or leave it null for no size limit"));
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid segment log options: " + string.Join("; ", problems) + ".");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
