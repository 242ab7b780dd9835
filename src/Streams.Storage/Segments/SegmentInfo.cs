namespace Streams.Storage.Segments;

/// <summary>A snapshot of one segment of a <see cref="SegmentLog"/>.</summary>
/// <param name="BaseIndex">Index of the segment's first batch (its file name).</param>
/// <param name="LastIndex">Index of its last batch; BaseIndex - 1 when it holds none.</param>
/// <param name="SizeBytes">Bytes in its log file.</param>
/// <param name="MaxTimestampMs">Largest MaxTimestampMs of its batches (Unix ms); long.MinValue when it holds none.</param>
/// <param name="CreatedAt">
/// When the segment began, by the log's clock: the time of its first append; for a segment found
/// on disk at open, its first batch's FirstTimestampMs (at most the opening time); when it holds
/// nothing yet, the time it was created. Rolling by age counts from here.
/// </param>
/// <param name="FilePath">Full path of its log file.</param>
public sealed record SegmentInfo(long BaseIndex, long LastIndex, long SizeBytes, long MaxTimestampMs, DateTimeOffset CreatedAt, string FilePath);
