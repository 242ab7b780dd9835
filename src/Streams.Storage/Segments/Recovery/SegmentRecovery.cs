using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Storage.Batches;
using Streams.Storage.Segments.Files;
using Streams.Storage.Segments.Indexes;

namespace Streams.Storage.Segments.Recovery;

/// <summary>
/// Opens a log directory after a clean stop or a crash.
/// <list type="bullet">
/// <item>Closed segments (all but the last) were fsynced, with their index files, before the next
/// segment began. Their index files are used when they pass every check (header, size, CRC, base
/// index, entries in strictly increasing order, positions inside the log) and the batches after
/// the last offset entry are valid and end exactly where the next segment begins; otherwise the
/// indexes are rebuilt from a full scan and rewritten. Any invalid batch in a closed segment is a
/// <see cref="StorageCorruptionException"/>; with <see cref="SegmentLogOptions.VerifyAllSegmentsOnOpen"/>
/// every batch of every closed segment is checked, otherwise only those a rebuild or the tail
/// check reads (readers check every batch they are handed anyway).</item>
/// <item>The last segment is scanned whole. At the first invalid batch: if any later offset holds
/// a valid batch, the damage is in the middle (error naming file and position); otherwise it is a
/// torn tail, cut off with a warning. Its indexes are always rebuilt in memory and its stale index
/// files deleted (an active segment's index files are written when it rolls).</item>
/// <item>Segments must follow each other without gap or overlap.</item>
/// </list>
/// </summary>
internal static class SegmentRecovery
{
    /// <summary>Recovers every segment of <paramref name="directory"/>, in index order.</summary>
    public static Segment[] Recover(string directory, SegmentLogOptions options, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var bases = new List<long>();
        var indexFiles = new List<(string Path, long BaseIndex)>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(SegmentFileNames.LogExtension, StringComparison.Ordinal))
            {
                if (!SegmentFileNames.TryParse(name, SegmentFileNames.LogExtension, out var baseIndex))
                {
                    throw new StorageCorruptionException(path, 0, "a segment's file name must be its base index (at least 1) as 20 digits, such as 00000000000000000001.log; move this file out of the log directory");
                }

                bases.Add(baseIndex);
            }
            else if (SegmentFileNames.TryParse(name, SegmentFileNames.OffsetIndexExtension, out var offsetBase))
            {
                indexFiles.Add((path, offsetBase));
            }
            else if (SegmentFileNames.TryParse(name, SegmentFileNames.TimeIndexExtension, out var timeBase))
            {
                indexFiles.Add((path, timeBase));
            }
        }

        bases.Sort();
        var known = bases.ToHashSet();
        foreach (var (path, baseIndex) in indexFiles)
        {
            if (!known.Contains(baseIndex))
            {
                File.Delete(path);
                SegmentLogLog.OrphanIndexDeleted(logger, path);
            }
        }

        var segments = new List<Segment>(bases.Count);
        try
        {
            long previousTerm = 0;
            for (var i = 0; i < bases.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var segment = i < bases.Count - 1
                    ? RecoverClosed(directory, bases[i], bases[i + 1], previousTerm, options, now, logger)
                    : RecoverLast(directory, bases[i], previousTerm, options, now, logger);
                segments.Add(segment);
                previousTerm = Math.Max(previousTerm, segment.LastTerm);
            }

            return [.. segments];
        }
        catch (Exception)
        {
            foreach (var segment in segments)
            {
                segment.ReleaseOwner();
            }

            throw;
        }
    }

    private static Segment RecoverClosed(string directory, long baseIndex, long nextBaseIndex, long previousTerm, SegmentLogOptions options, DateTimeOffset now, ILogger logger)
    {
        var path = SegmentFileNames.LogPath(directory, baseIndex);
        var handle = Segment.OpenFile(path);
        try
        {
            var size = RandomAccess.GetLength(handle);
            var lastIndex = nextBaseIndex - 1;
            if (lastIndex - baseIndex > uint.MaxValue)
            {
                throw new StorageCorruptionException(path, 0, Invariant($"the next segment starts at index {nextBaseIndex}, more batches after {baseIndex} than a segment can hold: a segment file is missing"));
            }

            var nowMs = now.ToUnixTimeMilliseconds();
            using var reader = new SequentialReader(handle, size);
            if (options.VerifyAllSegmentsOnOpen)
            {
                var check = BatchScan.Scan(new Segment(directory, baseIndex, handle, options.IndexIntervalBytes, now), reader, 0, size, baseIndex, previousTerm, nowMs);
                if (check.Problem is not null)
                {
                    throw new StorageCorruptionException(path, check.EndPosition, check.Problem + " (a closed segment is fsynced before the next one begins, so this is damage, not a torn write)");
                }
            }

            var distrust = TryTrustedIndexes(directory, baseIndex, lastIndex, size, options, now, handle, reader, out var trusted);
            if (trusted is not null)
            {
                return trusted;
            }

            SegmentLogLog.IndexesRebuilt(logger, path, distrust);
            var segment = new Segment(directory, baseIndex, handle, options.IndexIntervalBytes, now);
            var scan = BatchScan.Scan(segment, reader, 0, size, baseIndex, previousTerm, nowMs);
            if (scan.Problem is not null)
            {
                throw new StorageCorruptionException(path, scan.EndPosition, scan.Problem + " (a closed segment is fsynced before the next one begins, so this is damage, not a torn write)");
            }

            if (segment.LastIndex != lastIndex)
            {
                throw new StorageCorruptionException(path, size, Invariant($"the segment ends at index {segment.LastIndex}, but the next segment starts at index {nextBaseIndex}: the log has a gap or an overlap between segments"));
            }

            segment.Seal();
            return segment;
        }
        catch (Exception)
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Returns null and sets <paramref name="segment"/> when the index files can be trusted; else why not.</summary>
    private static string TryTrustedIndexes(string directory, long baseIndex, long lastIndex, long size, SegmentLogOptions options, DateTimeOffset now, Microsoft.Win32.SafeHandles.SafeFileHandle handle, SequentialReader reader, out Segment? segment)
    {
        segment = null;
        var offsets = IndexFile.TryRead<OffsetIndexEntry>(SegmentFileNames.OffsetIndexPath(directory, baseIndex), baseIndex, out var offsetProblem);
        if (offsets is null)
        {
            return "the offset index cannot be used: " + offsetProblem;
        }

        var times = IndexFile.TryRead<TimeIndexEntry>(SegmentFileNames.TimeIndexPath(directory, baseIndex), baseIndex, out var timeProblem);
        if (times is null)
        {
            return "the time index cannot be used: " + timeProblem;
        }

        var lastRelative = lastIndex - baseIndex;
        var entryProblem = CheckEntries(offsets, times, size, lastRelative);
        if (entryProblem is not null)
        {
            return entryProblem;
        }

        var nowMs = now.ToUnixTimeMilliseconds();
        var candidate = new Segment(directory, baseIndex, handle, options.IndexIntervalBytes, now, offsets, times);
        var startRelative = offsets.Length > 0 ? offsets[^1].RelativeIndex : 0u;
        long startPosition = offsets.Length > 0 ? offsets[^1].Position : 0;
        var scan = BatchScan.Scan(candidate, reader, startPosition, size, baseIndex + startRelative, 0, nowMs);
        if (scan.Problem is not null || candidate.LastIndex != lastIndex)
        {
            return Invariant($"the batches after the last offset index entry (position {startPosition}) do not match it");
        }

        var first = reader.Read(0, BatchHeader.Size);
        if (first.Length < BatchHeader.Size || BatchHeader.Read(first).Index != baseIndex)
        {
            return "the first batch does not carry the segment's base index";
        }

        candidate.SetFirstAppendAt(Math.Min(BatchHeader.Read(first).FirstTimestampMs, nowMs));
        segment = candidate;
        return string.Empty;
    }

    private static string? CheckEntries(OffsetIndexEntry[] offsets, TimeIndexEntry[] times, long size, long lastRelative)
    {
        long previousRelative = 0, previousPosition = 0;
        for (var i = 0; i < offsets.Length; i++)
        {
            var entry = offsets[i];
            if (entry.RelativeIndex <= previousRelative || entry.Position <= previousPosition || entry.Position >= size || entry.RelativeIndex > lastRelative)
            {
                return Invariant($"offset index entry {i} (relative index {entry.RelativeIndex}, position {entry.Position}) is out of order or outside the log");
            }

            previousRelative = entry.RelativeIndex;
            previousPosition = entry.Position;
        }

        for (var i = 0; i < times.Length; i++)
        {
            var entry = times[i];
            if ((i > 0 && (entry.RelativeIndex <= times[i - 1].RelativeIndex || entry.MaxTimestampMs <= times[i - 1].MaxTimestampMs)) || entry.RelativeIndex > lastRelative)
            {
                return Invariant($"time index entry {i} (timestamp {entry.MaxTimestampMs}, relative index {entry.RelativeIndex}) is out of order or outside the log");
            }
        }

        return null;
    }

    private static Segment RecoverLast(string directory, long baseIndex, long previousTerm, SegmentLogOptions options, DateTimeOffset now, ILogger logger)
    {
        var path = SegmentFileNames.LogPath(directory, baseIndex);
        var handle = Segment.OpenFile(path);
        try
        {
            var size = RandomAccess.GetLength(handle);
            var segment = new Segment(directory, baseIndex, handle, options.IndexIntervalBytes, now);
            using (var reader = new SequentialReader(handle, size))
            {
                var scan = BatchScan.Scan(segment, reader, 0, size, baseIndex, previousTerm, now.ToUnixTimeMilliseconds());
                if (scan.Problem is not null)
                {
                    if (scan.IsMisplaced)
                    {
                        throw new StorageCorruptionException(path, scan.EndPosition, scan.Problem);
                    }

                    if (BatchScan.TryFindValidBatch(reader, scan.EndPosition + 1, size, out var found))
                    {
                        throw new StorageCorruptionException(path, scan.EndPosition, Invariant($"{scan.Problem}, yet a valid batch follows at position {found}: damage in the middle of the segment, not a torn write"));
                    }

                    RandomAccess.SetLength(handle, scan.EndPosition);
                    SegmentLogLog.TornTailCut(logger, path, size - scan.EndPosition, scan.EndPosition, segment.LastIndex, scan.Problem);
                }
            }

            // What was found is on disk from here on: DurableIndex starts at LastIndex.
            RandomAccess.FlushToDisk(handle);
            segment.DeleteIndexFiles();
            return segment;
        }
        catch (Exception)
        {
            handle.Dispose();
            throw;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
