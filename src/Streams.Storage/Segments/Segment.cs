using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Streams.Storage.Batches;
using Streams.Storage.Segments.Files;
using Streams.Storage.Segments.Indexes;

namespace Streams.Storage.Segments;

/// <summary>
/// One segment: a log file of whole batches with consecutive indexes [BaseIndex, LastIndex], and
/// its sparse offset and time indexes, kept in memory (written to their files when the segment
/// rolls). One writer (the log, under its write lock) and any number of readers: the writer
/// stores a batch and its index entries before it publishes LastIndex and SizeBytes, and readers
/// never look past the LastIndex they were shown.
/// <para>
/// The file handle is reference-counted: the log holds one reference, each reader takes one for
/// the time it reads. Deleting a segment unlinks its files and drops the log's reference; the
/// handle closes when the last reader lets go, so a reader inside a deleted segment finishes
/// (on Linux an unlinked open file stays readable).
/// </para>
/// </summary>
internal sealed class Segment
{
    private readonly SafeFileHandle _handle;
    private readonly int _indexIntervalBytes;
    private readonly PublishedList<OffsetIndexEntry> _offsets;
    private readonly PublishedList<TimeIndexEntry> _times;
    private readonly DateTimeOffset _openedAt;
    private long _sizeBytes;
    private long _lastIndex;
    private long _lastTerm;
    private long _maxTimestampMs = long.MinValue;
    private long _lastEntryPosition;
    private long _firstAppendAtMs = long.MinValue;
    private int _references = 1;
    private int _ownerReleased;

    /// <summary>
    /// Wraps an open log file holding no tracked batch yet; <paramref name="offsets"/> and
    /// <paramref name="times"/> are trusted index entries (recovery), empty otherwise. The caller
    /// then replays batches with <see cref="Track"/>.
    /// </summary>
    public Segment(string directory, long baseIndex, SafeFileHandle handle, int indexIntervalBytes, DateTimeOffset openedAt, ReadOnlySpan<OffsetIndexEntry> offsets = default, ReadOnlySpan<TimeIndexEntry> times = default)
    {
        BaseIndex = baseIndex;
        LogPath = SegmentFileNames.LogPath(directory, baseIndex);
        OffsetIndexPath = SegmentFileNames.OffsetIndexPath(directory, baseIndex);
        TimeIndexPath = SegmentFileNames.TimeIndexPath(directory, baseIndex);
        _handle = handle;
        _indexIntervalBytes = indexIntervalBytes;
        _openedAt = openedAt;
        _offsets = new PublishedList<OffsetIndexEntry>(offsets);
        _times = new PublishedList<TimeIndexEntry>(times);
        _lastIndex = baseIndex - 1;
        _lastEntryPosition = offsets.IsEmpty ? 0 : offsets[^1].Position;
        _maxTimestampMs = times.IsEmpty ? long.MinValue : times[^1].MaxTimestampMs;
    }

    /// <summary>Index of the first batch; the file name.</summary>
    public long BaseIndex { get; }

    /// <summary>Full path of the log file.</summary>
    public string LogPath { get; }

    /// <summary>Full path of the offset index file.</summary>
    public string OffsetIndexPath { get; }

    /// <summary>Full path of the time index file.</summary>
    public string TimeIndexPath { get; }

    /// <summary>Index of the last batch; BaseIndex - 1 when empty.</summary>
    public long LastIndex => Volatile.Read(ref _lastIndex);

    /// <summary>Term of the last batch; 0 when empty.</summary>
    public long LastTerm => Volatile.Read(ref _lastTerm);

    /// <summary>Bytes of whole batches in the file.</summary>
    public long SizeBytes => Volatile.Read(ref _sizeBytes);

    /// <summary>Largest batch MaxTimestampMs; long.MinValue when empty.</summary>
    public long MaxTimestampMs => Volatile.Read(ref _maxTimestampMs);

    /// <summary>Whether the segment holds no batch.</summary>
    public bool IsEmpty => LastIndex < BaseIndex;

    /// <summary>When the first batch was appended (Unix ms, the log's clock); long.MinValue when empty.</summary>
    public long FirstAppendAtMs => Volatile.Read(ref _firstAppendAtMs);

    /// <summary>Offset index entries (for tests and checks).</summary>
    public ReadOnlySpan<OffsetIndexEntry> OffsetEntries => _offsets.Snapshot();

    /// <summary>Time index entries (for tests and checks).</summary>
    public ReadOnlySpan<TimeIndexEntry> TimeEntries => _times.Snapshot();

    /// <summary>The log file's handle; valid while the caller holds a reference.</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>Creates a new, empty segment file (replacing any file of that name).</summary>
    public static Segment Create(string directory, long baseIndex, int indexIntervalBytes, DateTimeOffset now)
    {
        File.Delete(SegmentFileNames.OffsetIndexPath(directory, baseIndex));
        File.Delete(SegmentFileNames.TimeIndexPath(directory, baseIndex));
        var handle = File.OpenHandle(SegmentFileNames.LogPath(directory, baseIndex), FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        return new Segment(directory, baseIndex, handle, indexIntervalBytes, now);
    }

    /// <summary>Opens an existing segment file for recovery.</summary>
    public static SafeFileHandle OpenFile(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>A snapshot for <see cref="SegmentLog.Segments"/>.</summary>
    public SegmentInfo Info()
    {
        var first = FirstAppendAtMs;
        var createdAt = first == long.MinValue ? _openedAt : DateTimeOffset.FromUnixTimeMilliseconds(first);
        return new SegmentInfo(BaseIndex, LastIndex, SizeBytes, MaxTimestampMs, createdAt, LogPath);
    }

    /// <summary>Writes a validated batch at the end of the file and tracks it (writer only).</summary>
    public void Append(ReadOnlySpan<byte> batch, in BatchHeader header, long nowMs)
    {
        var position = _sizeBytes;
        try
        {
            RandomAccess.Write(_handle, batch, position);
        }
        catch (IOException)
        {
            // Leave no partial batch behind for the next append to follow.
            TryCut(position);
            throw;
        }

        Track(position, header, nowMs);
    }

    /// <summary>
    /// Accounts for the batch at <paramref name="position"/> (just written, or found by recovery):
    /// index entries first, then LastIndex and SizeBytes, then MaxTimestampMs.
    /// </summary>
    public void Track(long position, in BatchHeader header, long appendedAtMs)
    {
        var relative = (uint)(header.Index - BaseIndex);
        var max = Math.Max(_maxTimestampMs, header.MaxTimestampMs);
        if (position - _lastEntryPosition >= _indexIntervalBytes)
        {
            _offsets.Add(new OffsetIndexEntry(relative, (uint)position));
            _lastEntryPosition = position;
            var times = _times.Snapshot();
            if (times.IsEmpty || max > times[^1].MaxTimestampMs)
            {
                _times.Add(new TimeIndexEntry(max, relative));
            }
        }

        if (_firstAppendAtMs == long.MinValue)
        {
            Volatile.Write(ref _firstAppendAtMs, appendedAtMs);
        }

        Volatile.Write(ref _lastTerm, header.Term);
        Volatile.Write(ref _lastIndex, header.Index);
        Volatile.Write(ref _sizeBytes, position + header.Length);
        Volatile.Write(ref _maxTimestampMs, max);
    }

    /// <summary>Sets when the first batch was appended (recovery: from the first batch's timestamp).</summary>
    public void SetFirstAppendAt(long unixMs) => Volatile.Write(ref _firstAppendAtMs, unixMs);

    /// <summary>
    /// Closes the segment for appends when it rolls: a last time index entry with the segment's
    /// maximum, the log fsynced, both index files written and fsynced.
    /// </summary>
    public void Seal()
    {
        if (!IsEmpty)
        {
            var times = _times.Snapshot();
            if (times.IsEmpty || _maxTimestampMs > times[^1].MaxTimestampMs)
            {
                _times.Add(new TimeIndexEntry(_maxTimestampMs, (uint)(LastIndex - BaseIndex)));
            }
        }

        RandomAccess.FlushToDisk(_handle);
        WriteIndexFiles();
    }

    /// <summary>Writes both index files from memory and fsyncs them.</summary>
    public void WriteIndexFiles()
    {
        IndexFile.Write(OffsetIndexPath, BaseIndex, _offsets.Snapshot());
        IndexFile.Write(TimeIndexPath, BaseIndex, _times.Snapshot());
    }

    /// <summary>Deletes both index files (they are stale for an active segment).</summary>
    public void DeleteIndexFiles()
    {
        File.Delete(OffsetIndexPath);
        File.Delete(TimeIndexPath);
    }

    /// <summary>
    /// Removes every batch after <paramref name="index"/> (BaseIndex - 1 ≤ index &lt; LastIndex):
    /// cuts the file, drops index entries beyond it and recomputes the maximum timestamp. Runs
    /// with readers excluded.
    /// </summary>
    public void TruncateAfter(long index)
    {
        var end = FindPosition(index + 1);
        RandomAccess.SetLength(_handle, end);
        var keepRelative = index - BaseIndex;

        var offsets = _offsets.Snapshot();
        var keptOffsets = CountAtMost(offsets, keepRelative);
        _offsets.Shrink(keptOffsets);
        var times = _times.Snapshot();
        var keptTimes = 0;
        while (keptTimes < times.Length && times[keptTimes].RelativeIndex <= keepRelative)
        {
            keptTimes++;
        }

        _times.Shrink(keptTimes);
        _lastEntryPosition = keptOffsets > 0 ? offsets[keptOffsets - 1].Position : 0;

        // Every batch up to the last kept offset entry is covered by the last kept time entry;
        // the few after it are read.
        var max = keptTimes > 0 ? times[keptTimes - 1].MaxTimestampMs : long.MinValue;
        long term = 0;
        if (index >= BaseIndex)
        {
            Span<byte> buffer = stackalloc byte[BatchHeader.Size];
            var position = _lastEntryPosition;
            var current = keptOffsets > 0 ? BaseIndex + offsets[keptOffsets - 1].RelativeIndex : BaseIndex;
            for (; current <= index; current++)
            {
                var header = ReadHeader(position, current, buffer);
                max = Math.Max(max, header.MaxTimestampMs);
                term = header.Term;
                position += header.Length;
            }
        }
        else
        {
            Volatile.Write(ref _firstAppendAtMs, long.MinValue);
        }

        Volatile.Write(ref _lastTerm, term);
        Volatile.Write(ref _lastIndex, index);
        Volatile.Write(ref _sizeBytes, end);
        Volatile.Write(ref _maxTimestampMs, max);
        DeleteIndexFiles();
    }

    /// <summary>
    /// File position of batch <paramref name="index"/> (BaseIndex ≤ index ≤ LastIndex + 1; the
    /// end of the file for LastIndex + 1): the nearest offset index entry at or before it, then a
    /// walk over batch headers.
    /// </summary>
    public long FindPosition(long index)
    {
        var offsets = _offsets.Snapshot();
        var found = CountAtMost(offsets, index - BaseIndex) - 1;
        long position = found >= 0 ? offsets[found].Position : 0;
        var current = found >= 0 ? BaseIndex + offsets[found].RelativeIndex : BaseIndex;
        Span<byte> buffer = stackalloc byte[BatchHeader.Size];
        for (; current < index; current++)
        {
            position += ReadHeader(position, current, buffer).Length;
        }

        return position;
    }

    /// <summary>
    /// The first index in [start of segment, <paramref name="boundIndex"/>] whose batch has
    /// MaxTimestampMs ≥ <paramref name="timestampMs"/>, or null: the last time index entry below
    /// the timestamp tells where to start reading headers.
    /// </summary>
    public long? FindByTimestamp(long timestampMs, long boundIndex)
    {
        var times = _times.Snapshot();
        int low = 0, high = times.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (times[middle].MaxTimestampMs < timestampMs)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        var current = low > 0 ? BaseIndex + times[low - 1].RelativeIndex + 1 : BaseIndex;
        if (current > boundIndex)
        {
            return null;
        }

        var position = FindPosition(current);
        Span<byte> buffer = stackalloc byte[BatchHeader.Size];
        for (; current <= boundIndex; current++)
        {
            var header = ReadHeader(position, current, buffer);
            if (header.MaxTimestampMs >= timestampMs)
            {
                return current;
            }

            position += header.Length;
        }

        return null;
    }

    /// <summary>
    /// Reads the header of the batch expected at <paramref name="position"/> with index
    /// <paramref name="expectedIndex"/>; its length and index must be plausible (the CRC is the
    /// caller's check when it hands the batch out).
    /// </summary>
    public BatchHeader ReadHeader(long position, long expectedIndex, Span<byte> buffer)
    {
        ReadExactly(buffer[..BatchHeader.Size], position);
        var header = BatchHeader.Read(buffer);
        if (header.Length < BatchHeader.Size || header.Length > BatchHeader.MaxLength || position + header.Length > SizeBytes)
        {
            throw Corruption(position, Invariant($"a batch header announces {header.Length} bytes, which does not fit (the segment holds {SizeBytes} bytes of batches)"));
        }

        if (header.Index != expectedIndex)
        {
            throw Corruption(position, Invariant($"the batch header has index {header.Index} where index {expectedIndex} belongs"));
        }

        return header;
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="position"/>; a short file is corruption.</summary>
    public void ReadExactly(Span<byte> buffer, long position)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(_handle, buffer[total..], position + total);
            if (read == 0)
            {
                throw Corruption(position, Invariant($"the file ends {buffer.Length - total} bytes before the end of the batch"));
            }

            total += read;
        }
    }

    /// <summary>A corruption error naming this segment's file.</summary>
    public StorageCorruptionException Corruption(long position, string reason) => new(LogPath, position, reason);

    /// <summary>Takes a reference to the file handle; false when the segment was deleted and closed.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var references = Volatile.Read(ref _references);
            if (references == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
            {
                return true;
            }
        }
    }

    /// <summary>Drops a reference; the last one closes the handle.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _handle.Dispose();
        }
    }

    /// <summary>Drops the log's own reference (once).</summary>
    public void ReleaseOwner()
    {
        if (Interlocked.Exchange(ref _ownerReleased, 1) == 0)
        {
            Release();
        }
    }

    /// <summary>Unlinks the segment's files and drops the log's reference; readers inside it finish.</summary>
    public void Delete()
    {
        File.Delete(LogPath);
        DeleteIndexFiles();
        ReleaseOwner();
    }

    private static int CountAtMost(ReadOnlySpan<OffsetIndexEntry> offsets, long relativeIndex)
    {
        int low = 0, high = offsets.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (offsets[middle].RelativeIndex <= relativeIndex)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private void TryCut(long position)
    {
        try
        {
            RandomAccess.SetLength(_handle, position);
        }
        catch (IOException)
        {
            // Recovery cuts whatever is left as a torn tail.
        }
    }
}
