using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Raft.Storage;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// A shard replica's Raft log storage, where the Raft log is the shard's segment log: each entry
/// is one batch of <see cref="Segments"/> (no second copy), beside two small files, the hard
/// state and the latest snapshot. Format, writes and recovery: Shards/Log/FORMAT.md.
/// </summary>
/// <remarks>
/// <para>
/// Two views of one log. Raft sees the entries after the latest snapshot,
/// [<see cref="FirstIndex"/>, <see cref="LastIndex"/>]. Readers of the shard read record batches
/// from <see cref="Segments"/>, which keeps data older than the snapshot until retention
/// deletes it: <see cref="CompactAsync"/> moves only Raft's first index, and
/// <see cref="ApplyRetentionAsync"/> deletes segments (taking a snapshot first when Raft would
/// otherwise lose entries the held snapshot does not cover).
/// </para>
/// <para>
/// Writes (<see cref="SaveAsync"/>, <see cref="CompactAsync"/>, <see cref="ApplyRetentionAsync"/>)
/// are serialized; the Raft core reads (<see cref="Term"/>, <see cref="Entries"/>) between them,
/// as <see cref="IRaftStorage"/> says. Terms come from an in-memory map of runs of equal terms,
/// rebuilt on open from the batch headers; entries are read from the segment files. A write that
/// fails after it began makes the log refuse further writes until it is reopened, since what
/// reached the disk is then unknown.
/// </para>
/// </remarks>
public sealed partial class ShardRaftLog : IRaftStorage, IAsyncDisposable
{
    // One Entries() read takes at most this many bytes of batches at a time.
    private const int MaxReadBytes = 4 * 1024 * 1024;

    private readonly string _directory;
    private readonly ShardRaftLogOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly HardStateFile _hardStateFile;
    private readonly TermRuns _terms;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly BatchBuilder _builder = new(4096);
    private readonly BatchReader _reader = new();
    private readonly bool _fsync;
    private Snapshot? _snapshot;
    private long _snapshotIndex;
    private long _snapshotTerm;
    private HardState _hardState;
    private long _averageBatchBytes;
    private Exception? _failure;
    private int _disposed;

    private ShardRaftLog(ShardRaftLogOptions options, string directory, SegmentLog segments, HardStateFile hardStateFile, HardState hardState, StoredSnapshot? stored, TermRuns terms, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _directory = directory;
        Segments = segments;
        _hardStateFile = hardStateFile;
        _hardState = hardState;
        _terms = terms;
        _timeProvider = timeProvider;
        _logger = logger;
        _fsync = options.Durability != DurabilityPolicy.Never;
        if (stored is { } held)
        {
            SetSnapshot(held.Snapshot);
        }

        long bytes = 0, batches = 0;
        foreach (var segment in segments.Segments)
        {
            bytes += segment.SizeBytes;
            batches += segment.LastIndex - segment.BaseIndex + 1;
        }

        _averageBatchBytes = batches > 0 ? Math.Max(BatchHeader.Size, bytes / batches) : 1024;
    }

    /// <summary>
    /// The shard's segment log. Readers read record batches straight from it, up to an index they
    /// know is committed; batches after the commit index may still be replaced by a Raft
    /// conflict. Control batches (<see cref="BatchAttributes.Control"/>) hold no records. Do not
    /// write to it: every write goes through this log.
    /// </summary>
    public SegmentLog Segments { get; }

    /// <inheritdoc/>
    public Snapshot? Snapshot => Volatile.Read(ref _snapshot);

    /// <inheritdoc/>
    /// <remarks>One past the latest snapshot's index (1 without one). <see cref="Segments"/> may hold data from before it.</remarks>
    public long FirstIndex => Volatile.Read(ref _snapshotIndex) + 1;

    /// <inheritdoc/>
    public long LastIndex => Segments.LastIndex;

    /// <summary>
    /// Opens the shard replica in <see cref="ShardRaftLogOptions.Directory"/>, creating it when
    /// missing, and recovers it: the segment log cuts a torn tail; a snapshot installation a
    /// crash interrupted is finished; a commit index beyond the last entry is lowered to it; the
    /// term of every entry after the snapshot is read from the batch headers.
    /// </summary>
    /// <param name="options">The settings; validated first.</param>
    /// <param name="timeProvider">The clock for rolling segments and retention; the system clock by default.</param>
    /// <param name="logger">Where recovery, installations and retention are logged.</param>
    /// <param name="cancellationToken">Stops the recovery.</param>
    /// <returns>The open log; dispose it to close the files and release the directory.</returns>
    /// <exception cref="ArgumentException">The options are not valid; the message says what to change.</exception>
    /// <exception cref="StorageCorruptionException">Damage a crash cannot explain; names the file.</exception>
    /// <exception cref="IOException">The directory is open already, or I/O failed.</exception>
    public static async Task<ShardRaftLog> OpenAsync(ShardRaftLogOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = timeProvider ?? TimeProvider.System;
        var log = logger ?? NullLogger.Instance;
        var directory = Path.GetFullPath(options.Directory);
        var fsync = options.Durability != DurabilityPolicy.Never;

        // The segment log creates and locks the directory: the files beside it are ours alone.
        var segments = await SegmentLog.OpenAsync(options.ToSegmentLogOptions(), clock, log, cancellationToken);
        HardStateFile? hardStateFile = null;
        try
        {
            var stored = await SnapshotFile.ReadAsync(directory, log, cancellationToken);
            var snapshotIndex = stored?.Snapshot.Metadata.Index ?? 0;
            AlignWithSnapshot(segments, stored, log);
            hardStateFile = await HardStateFile.OpenAsync(directory, fsync, segments.LastIndex > 0 || stored is not null, log, cancellationToken);
            var terms = new TermRuns(snapshotIndex + 1);
            await SegmentTermScanner.ScanAsync(segments, snapshotIndex + 1, terms, cancellationToken);

            var hardState = hardStateFile.State;
            if (hardState.Commit > segments.LastIndex)
            {
                ShardRaftLogLog.CommitClamped(log, hardState.Commit, segments.LastIndex);
                hardState = hardState with { Commit = segments.LastIndex };
            }

            var opened = new ShardRaftLog(options, directory, segments, hardStateFile, hardState, stored, terms, clock, log);
            ShardRaftLogLog.Opened(log, directory, opened.FirstIndex, opened.LastIndex, segments.FirstIndex, snapshotIndex, hardState.Term, hardState.Vote, hardState.Commit);
            return opened;
        }
        catch
        {
            hardStateFile?.Dispose();
            await segments.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc/>
    public HardState InitialState() => _hardState;

    /// <inheritdoc/>
    public long Term(long index)
    {
        var snapshotIndex = Volatile.Read(ref _snapshotIndex);
        if (index == snapshotIndex)
        {
            return Volatile.Read(ref _snapshotTerm);
        }

        CheckRange(index, index + 1);
        return _terms.Term(index);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the batches from the segment files (each CRC-checked) in pieces of a few MiB at most.
    /// A normal entry's data is its whole batch, with the term, index and CRC the log wrote.
    /// </remarks>
    public IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes)
    {
        if (lo > hi)
        {
            throw new ArgumentException(Invariant($"Invalid range [{lo}, {hi})."), nameof(lo));
        }

        CheckRange(lo, hi);
        var result = new List<Entry>();
        long total = 0;
        var next = lo;
        while (next < hi)
        {
            // A guess at the bytes left to read, so that a short range does not read far past it;
            // one batch alone when one is wanted. A low guess only means another round.
            var wanted = hi - next;
            var guess = wanted > MaxReadBytes ? MaxReadBytes : wanted * 2 * Volatile.Read(ref _averageBatchBytes);
            var budget = wanted == 1 ? 0 : Math.Min(Math.Min(guess, MaxReadBytes), Math.Max(0, maxBytes - total));
            var buffer = new ArrayBufferWriter<byte>((int)Math.Max(budget, BatchHeader.Size));
            var read = Segments.Read(next, budget, buffer);
            if (read.BatchCount == 0)
            {
                throw new RaftLogException(RaftLogError.Unavailable, Invariant($"Index {next} is beyond the segment log's last index {Segments.LastIndex}."));
            }

            var batches = buffer.WrittenMemory;
            for (var i = 0; i < read.BatchCount; i++)
            {
                var length = BatchHeader.Read(batches.Span).Length;
                var entry = RaftEntryBatches.ToEntry(batches[..length]);
                batches = batches[length..];
                if (entry.Index != next)
                {
                    throw new StorageCorruptionException(Invariant($"Read the batch of index {entry.Index} where index {next} belongs."));
                }

                if (result.Count > 0 && total + entry.SizeBytes > maxBytes)
                {
                    return result;
                }

                result.Add(entry);
                total += entry.SizeBytes;
                if (++next == hi)
                {
                    return result;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Closes the segment log (which fsyncs what was appended) and the hard-state file, once a
    /// write in progress has finished. Later writes fail with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writeGate.WaitAsync();
        try
        {
            await Segments.DisposeAsync();
        }
        finally
        {
            _hardStateFile.Dispose();
            _builder.Dispose();
            _reader.Dispose();

            // Writers queued behind the gate get in and find the log disposed.
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Makes the segment log agree with the snapshot before anything reads it: finishes an
    /// installation a crash interrupted (the segment log does not start right after a snapshot
    /// that replaces it), and restarts a log that ends before the snapshot (entries not yet
    /// durable lost in a crash under Interval or Never durability).
    /// </summary>
    private static void AlignWithSnapshot(SegmentLog segments, StoredSnapshot? stored, ILogger logger)
    {
        if (stored is not { } held)
        {
            if (segments.FirstIndex > 1)
            {
                throw new StorageCorruptionException(Invariant(
                    $"The segment log starts at index {segments.FirstIndex} but there is no snapshot file: the entries before it are lost. Restore the snapshot file, or delete the shard directory to rebuild this replica from the leader."));
            }

            return;
        }

        var index = held.Snapshot.Metadata.Index;
        if (held.RestartsLog && segments.FirstIndex != index + 1)
        {
            segments.RestartAt(index + 1);
            ShardRaftLogLog.InstallationFinished(logger, index, index + 1);
        }
        else if (segments.LastIndex < index)
        {
            var last = segments.LastIndex;
            segments.RestartAt(index + 1);
            ShardRaftLogLog.LogBehindSnapshot(logger, last, index, index + 1);
        }
        else if (segments.FirstIndex > index + 1)
        {
            throw new StorageCorruptionException(Invariant(
                $"The segment log starts at index {segments.FirstIndex}, after the snapshot at {index}: the entries in between are lost. Delete the shard directory to rebuild this replica from the leader."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private void SetSnapshot(Snapshot snapshot)
    {
        Volatile.Write(ref _snapshotTerm, snapshot.Metadata.Term);
        Volatile.Write(ref _snapshotIndex, snapshot.Metadata.Index);
        Volatile.Write(ref _snapshot, snapshot);
    }

    private void CheckRange(long lo, long hi)
    {
        if (lo < FirstIndex)
        {
            throw new RaftLogException(RaftLogError.Compacted, Invariant($"Index {lo} is before the first index {FirstIndex}."));
        }

        if (hi > LastIndex + 1)
        {
            throw new RaftLogException(RaftLogError.Unavailable, Invariant($"Index {hi - 1} is beyond the last index {LastIndex}."));
        }
    }
}
