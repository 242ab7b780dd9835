using System.Buffers.Binary;
using System.Globalization;
using Streams.Storage.Batches;

namespace Streams.Storage.Segments.Recovery;

/// <summary>Where a scan of a segment's batches stopped.</summary>
/// <param name="EndPosition">Just after the last valid batch: the file's end, or where the problem is.</param>
/// <param name="Problem">Null when every batch up to the end was valid; else what is wrong at EndPosition.</param>
/// <param name="IsMisplaced">
/// The batch at EndPosition passed its CRC but has the wrong index or a lower term: it was written
/// whole, so it cannot be a torn write.
/// </param>
internal readonly record struct ScanResult(long EndPosition, string? Problem, bool IsMisplaced);

/// <summary>Walks a segment's batches, checking each, and replays them into the segment.</summary>
internal static class BatchScan
{
    /// <summary>
    /// Checks the batches in [<paramref name="start"/>, <paramref name="end"/>): whole, CRC-valid,
    /// consecutive indexes from <paramref name="firstIndex"/>, terms never below
    /// <paramref name="previousTerm"/> or the batch before; each valid one is tracked by the segment.
    /// </summary>
    public static ScanResult Scan(Segment segment, SequentialReader reader, long start, long end, long firstIndex, long previousTerm, long nowMs)
    {
        var position = start;
        var index = firstIndex;
        var term = previousTerm;
        while (position < end)
        {
            var head = reader.Read(position, BatchHeader.Size);
            if (head.Length < BatchHeader.Size)
            {
                return new ScanResult(position, Invariant($"the file ends {end - position} bytes into a batch header"), false);
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (length < BatchHeader.Size || length > BatchHeader.MaxLength)
            {
                return new ScanResult(position, Invariant($"a batch header announces {length} bytes, outside {BatchHeader.Size} to {BatchHeader.MaxLength}"), false);
            }

            if (position + length > end)
            {
                return new ScanResult(position, Invariant($"a batch of {length} bytes runs {position + length - end} bytes past the end of the file"), false);
            }

            var batch = reader.Read(position, length);
            var problem = BatchHeader.Validate(batch);
            if (problem is not null)
            {
                return new ScanResult(position, problem, false);
            }

            var header = BatchHeader.Read(batch);
            if (header.Index != index)
            {
                return new ScanResult(position, Invariant($"the batch has index {header.Index} where index {index} belongs"), true);
            }

            if (header.Term < term)
            {
                return new ScanResult(position, Invariant($"the batch has term {header.Term}, below term {term} before it"), true);
            }

            segment.Track(position, header, Math.Min(header.FirstTimestampMs, nowMs));
            term = header.Term;
            position += length;
            index++;
        }

        return new ScanResult(position, null, false);
    }

    /// <summary>
    /// Looks at every offset from <paramref name="from"/> for a whole batch that passes its CRC:
    /// true means the damage before it is in the middle of the data, not a torn tail.
    /// </summary>
    public static bool TryFindValidBatch(SequentialReader reader, long from, long end, out long found)
    {
        for (var position = from; position + BatchHeader.Size <= end; position++)
        {
            var head = reader.Read(position, BatchHeader.Size);
            var length = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (length < BatchHeader.Size || length > BatchHeader.MaxLength || position + length > end || head[8] != BatchHeader.CurrentFormatVersion)
            {
                continue;
            }

            if (BatchHeader.Validate(reader.Read(position, length)) is null)
            {
                found = position;
                return true;
            }
        }

        found = -1;
        return false;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
