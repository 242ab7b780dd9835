using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Streams.Raft.Storage.FileLog;

namespace Streams.Raft.Storage;

/// <summary>
/// A durable <see cref="IRaftStorage"/> in one directory: segment files of CRC'd frames holding
/// entries and hard states, plus one snapshot file (format and recovery: Storage/FORMAT.md).
/// Meant for the metadata Raft group and for tests; it behaves exactly like
/// <see cref="MemoryRaftLog"/>, which it keeps as its in-memory copy so reads never touch the disk.
/// </summary>
/// <remarks>
/// One writer at a time, with reads between writes (as <see cref="IRaftStorage"/> says). A write
/// is durable (fsynced, unless <see cref="FileRaftLogOptions.Fsync"/> is off) when its task
/// completes, and only then does the in-memory copy change; the exception is a save that only
/// raises the commit index, which the next fsync covers (a lost commit index is learned again). A failed write leaves the log unusable
/// for writes until it is reopened, since what reached the disk is then unknown.
/// </remarks>
public sealed class FileRaftLog : IRaftStorage, IDisposable
{
    private const string LockFileName = ".lock";

    private readonly MemoryRaftLog _memory = new();
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly bool _fsync;
    private readonly SafeFileHandle _lock;

    // The segments of the current generation, oldest first; the last one is appended to.
    private readonly List<LogSegment> _segments;
    private SafeFileHandle _active;
    private long _generation;
    private long _nextSequence;
    private Exception? _failure;
    private bool _disposed;

    // The active segment ends with a frame that was written but not fsynced (a commit index).
    private bool _unsyncedTail;

    private FileRaftLog(FileRaftLogOptions options, string directory, SafeFileHandle lockHandle, RecoveredLog recovered, SafeFileHandle active, FileRaftLogRecovery report)
    {
        _directory = directory;
        _segmentBytes = options.SegmentBytes;
        _fsync = options.Fsync;
        _lock = lockHandle;
        _segments = recovered.Segments;
        _active = active;
        _generation = recovered.Generation;
        _nextSequence = recovered.NextSequence;
        Recovery = report;
        if (recovered.Snapshot is { } snapshot)
        {
            _memory.ApplySnapshot(snapshot);
        }

        _memory.Append(recovered.Entries);
        _memory.SetHardState(recovered.HardState);
    }

    /// <summary>What opening found and repaired: torn tail cut, leftover files deleted.</summary>
    public FileRaftLogRecovery Recovery { get; }

    /// <inheritdoc/>
    public Snapshot? Snapshot => _memory.Snapshot;

    /// <inheritdoc/>
    public long FirstIndex => _memory.FirstIndex;

    /// <inheritdoc/>
    public long LastIndex => _memory.LastIndex;

    /// <summary>
    /// Opens the log in <see cref="FileRaftLogOptions.Directory"/>, creating it if missing, and
    /// recovers its state: a torn last write is cut off, leftovers of an interrupted snapshot
    /// installation are deleted.
    /// </summary>
    /// <param name="options">Where and how to keep the files.</param>
    /// <param name="cancellationToken">Cancels the recovery reads.</param>
    /// <returns>The open log; dispose it to release the directory.</returns>
    /// <exception cref="RaftLogCorruptionException">A file is damaged in a way a crash cannot explain; names the file and offset.</exception>
    /// <exception cref="IOException">The directory is already open (by this or another process), or I/O failed.</exception>
    public static async ValueTask<FileRaftLog> OpenAsync(FileRaftLogOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SegmentBytes, 1);
        var directory = Path.GetFullPath(options.Directory);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            if (options.Fsync && Path.GetDirectoryName(directory) is { } parent)
            {
                DirectorySync.Flush(parent);
            }
        }

        // FileShare.None takes an exclusive lock (flock on Unix): two logs writing one directory
        // would interleave frames.
        SafeFileHandle lockHandle;
        try
        {
            lockHandle = File.OpenHandle(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The Raft log in {directory} is already open.", ex);
        }

        SafeFileHandle? active = null;
        try
        {
            var recovered = await LogRecovery.RecoverAsync(directory, options.Fsync, cancellationToken);
            var report = new FileRaftLogRecovery(recovered.Segments.Count, recovered.TruncatedFile, recovered.TruncatedBytes, recovered.DeletedFiles.ToArray());
            if (recovered.Segments.Count == 0)
            {
                if (recovered.Snapshot is not null)
                {
                    // Installing a snapshot creates its generation's first segment before the
                    // snapshot's rename, and that segment holds the hard state: losing it would
                    // forget the vote.
                    throw new RaftLogCorruptionException(
                        directory, 0, $"the snapshot names log generation {recovered.Generation} but no segment of it exists (the hard state is lost)");
                }

                var (segment, handle) = await CreateSegmentAsync(
                    directory, options.Fsync, recovered.Generation, recovered.NextSequence, [], HardState.Empty);
                recovered.NextSequence++;
                recovered.Segments.Add(segment);
                active = handle;
            }
            else
            {
                active = File.OpenHandle(recovered.Segments[^1].Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            }

            return new FileRaftLog(options, directory, lockHandle, recovered, active, report);
        }
        catch
        {
            active?.Dispose();
            lockHandle.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public HardState InitialState() => _memory.InitialState();

    /// <inheritdoc/>
    public long Term(long index) => _memory.Term(index);

    /// <inheritdoc/>
    public IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes) => _memory.Entries(lo, hi, maxBytes);

    /// <inheritdoc/>
    /// <remarks>
    /// Appending entries and a hard state is one frame: one write and one fsync. Installing a
    /// snapshot creates a new log generation (a new segment with the entries and the hard state,
    /// then the snapshot file, whose rename commits both) and deletes the old segments. The
    /// arguments are checked before anything is written; once writing began, cancellation no
    /// longer stops it.
    /// </remarks>
    /// <exception cref="ArgumentException">The entries would leave a gap, start inside the snapshot or are not consecutive.</exception>
    /// <exception cref="InvalidOperationException">An earlier write failed: reopen the log.</exception>
    public async ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ThrowIfUnusable();
        CheckEntries(entries, snapshot);
        cancellationToken.ThrowIfCancellationRequested();
        if (snapshot is null && entries.Count == 0 && hardState is null)
        {
            return;
        }

        try
        {
            if (snapshot is not null)
            {
                await InstallAsync(hardState ?? _memory.InitialState(), entries, snapshot);
            }
            else
            {
                await AppendAsync(hardState, entries);
            }
        }
        catch (Exception ex)
        {
            _failure = ex;
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The snapshot file is replaced (temp file, fsync, rename, fsync of the directory), then the
    /// oldest segment files whose entries the snapshot covers are deleted. Entries it covers in the
    /// segments that remain are ignored by reads and by recovery.
    /// </remarks>
    /// <exception cref="ArgumentException">The snapshot is beyond the last index or its term does not match the log.</exception>
    /// <exception cref="InvalidOperationException">An earlier write failed: reopen the log.</exception>
    public async ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ThrowIfUnusable();
        var index = snapshot.Metadata.Index;
        if (index < _memory.FirstIndex)
        {
            return;
        }

        if (index > _memory.LastIndex)
        {
            throw new ArgumentException($"Snapshot at {index} is beyond the last index {_memory.LastIndex}.", nameof(snapshot));
        }

        var term = _memory.Term(index);
        if (term != snapshot.Metadata.Term)
        {
            throw new ArgumentException(
                $"Snapshot at {index}@{snapshot.Metadata.Term} does not match the log's entry {index}@{term}.", nameof(snapshot));
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await SnapshotFile.WriteAsync(_directory, snapshot, _generation, _fsync);
            _memory.Compact(snapshot);

            // Oldest first, one fsync of the directory each, never the newest (it holds the latest
            // hard state): the files left are always a suffix, which replay needs (FORMAT.md).
            while (_segments.Count > 1 && _segments[0].MaxEntryIndex <= index)
            {
                File.Delete(_segments[0].Path);
                _segments.RemoveAt(0);
                SyncDirectory();
            }
        }
        catch (Exception ex)
        {
            _failure = ex;
            throw;
        }
    }

    /// <summary>Closes the files and releases the directory. Reads keep working from memory.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _active.Dispose();
        _lock.Dispose();
    }

    private async ValueTask AppendAsync(HardState? hardState, IReadOnlyList<Entry> entries)
    {
        var active = _segments[^1];
        var frameSize = LogFormat.FrameSize(entries, hardState is not null);
        if (active.Size + frameSize > _segmentBytes)
        {
            if (_unsyncedTail)
            {
                // Recovery treats damage in any segment but the newest as corruption.
                RandomAccess.FlushToDisk(_active);
                _unsyncedTail = false;
            }

            // The new segment's first frame always carries the hard state, so the newest segment
            // holds the latest one and compaction may delete any older segment.
            var (segment, handle) = await CreateSegmentAsync(
                _directory, _fsync, _generation, _nextSequence++, entries, hardState ?? _memory.InitialState());
            _active.Dispose();
            _active = handle;
            _segments.Add(segment);
        }
        else
        {
            var length = ToBufferLength(frameSize);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                LogFormat.WriteFrame(buffer.AsSpan(0, length), active.Size, entries, hardState);
                await RandomAccess.WriteAsync(_active, buffer.AsMemory(0, length), active.Size, CancellationToken.None);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (_fsync)
            {
                _unsyncedTail = OnlyCommitMoves(hardState, entries);
                if (!_unsyncedTail)
                {
                    RandomAccess.FlushToDisk(_active);
                }
            }

            active.Size += length;
            active.Wrote(entries);
        }

        _memory.Append(entries);
        if (hardState is { } state)
        {
            _memory.SetHardState(state);
        }
    }

    /// <summary>
    /// A save that only raises the commit index needs no fsync of its own: a commit index lost in
    /// a crash is learned again from the leader, and the next fsync of this file makes it durable
    /// anyway. Half of a lightly loaded node's saves are of this kind.
    /// </summary>
    private bool OnlyCommitMoves(HardState? hardState, IReadOnlyList<Entry> entries)
    {
        var held = _memory.InitialState();
        return entries.Count == 0 && hardState is { } state && state.Term == held.Term && state.Vote == held.Vote;
    }

    private async ValueTask InstallAsync(HardState hardState, IReadOnlyList<Entry> entries, Snapshot snapshot)
    {
        // Until the snapshot's rename, recovery deletes the new generation's segment; after it,
        // the old generation's segments.
        var generation = _generation + 1;
        var (segment, handle) = await CreateSegmentAsync(_directory, _fsync, generation, _nextSequence++, entries, hardState);
        try
        {
            await SnapshotFile.WriteAsync(_directory, snapshot, generation, _fsync);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        var old = _segments.ToArray();
        _active.Dispose();
        _active = handle;
        _segments.Clear();
        _segments.Add(segment);
        _generation = generation;
        _memory.ApplySnapshot(snapshot);
        _memory.Append(entries);
        _memory.SetHardState(hardState);

        foreach (var stale in old)
        {
            File.Delete(stale.Path);
        }

        SyncDirectory();
    }

    /// <summary>
    /// Creates segment <paramref name="sequence"/> with its header and a first frame holding
    /// <paramref name="entries"/> and <paramref name="hardState"/>, in one write, fsynced with its
    /// directory entry.
    /// </summary>
    private static async ValueTask<(LogSegment Segment, SafeFileHandle Handle)> CreateSegmentAsync(
        string directory, bool fsync, long generation, long sequence, IReadOnlyList<Entry> entries, HardState hardState)
    {
        var segment = new LogSegment(sequence, Path.Combine(directory, LogFormat.SegmentName(sequence)));
        var length = ToBufferLength(LogFormat.HeaderSize + LogFormat.FrameSize(entries, withHardState: true));
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        SafeFileHandle? handle = null;
        try
        {
            LogFormat.WriteHeader(buffer, generation, sequence);
            LogFormat.WriteFrame(buffer.AsSpan(LogFormat.HeaderSize, length - LogFormat.HeaderSize), LogFormat.HeaderSize, entries, hardState);
            handle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, length), 0, CancellationToken.None);
            if (fsync)
            {
                RandomAccess.FlushToDisk(handle);
                DirectorySync.Flush(directory);
            }
        }
        catch
        {
            handle?.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        segment.Size = length;
        segment.Wrote(entries);
        return (segment, handle);
    }

    private static int ToBufferLength(long size) =>
        size <= Array.MaxLength
            ? (int)size
            : throw new ArgumentException($"A write of {size} bytes is too large for one frame; save fewer entries at a time.");

    /// <summary>The checks of <see cref="MemoryRaftLog.Append"/>, made before anything is written.</summary>
    private void CheckEntries(IReadOnlyList<Entry> entries, Snapshot? snapshot)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var snapshotIndex = snapshot?.Metadata.Index ?? _memory.FirstIndex - 1;
        var lastIndex = snapshot?.Metadata.Index ?? _memory.LastIndex;
        var first = entries[0].Index;
        if (first > lastIndex + 1)
        {
            throw new ArgumentException($"Entries start at {first} but the log ends at {lastIndex}: a gap would form.", nameof(entries));
        }

        if (first <= snapshotIndex)
        {
            throw new ArgumentException($"Entries start at {first}, inside the snapshot ending at {snapshotIndex}.", nameof(entries));
        }

        for (var i = 1; i < entries.Count; i++)
        {
            if (entries[i].Index != first + i)
            {
                throw new ArgumentException("Entries are not consecutive.", nameof(entries));
            }
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new InvalidOperationException(
                $"An earlier write to the Raft log in {_directory} failed; reopen the log to recover what reached the disk.", _failure);
        }
    }

    private void SyncDirectory()
    {
        if (_fsync)
        {
            DirectorySync.Flush(_directory);
        }
    }
}
