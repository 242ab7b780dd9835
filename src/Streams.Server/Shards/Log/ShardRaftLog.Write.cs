using System.Buffers;
using Streams.Raft.Storage;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>Persisting Raft's Ready: snapshots from the leader, entries, hard state; compaction.</summary>
public sealed partial class ShardRaftLog
{
    /// <inheritdoc/>
    /// <remarks>
    /// <para>
    /// In order: <paramref name="snapshot"/> (written to the snapshot file marked as replacing the
    /// log, then every segment is deleted and the segment log restarts at its index + 1), then
    /// <paramref name="entries"/> (the segment log is truncated before the first one when it
    /// conflicts, then each is appended as a batch), then, under
    /// <see cref="DurabilityPolicy.Always"/>, a wait for the group commit that makes them durable,
    /// then <paramref name="hardState"/>.
    /// </para>
    /// <para>
    /// A hard state whose term or vote changed is fsynced; one that only raises the commit index
    /// is not (a commit index lost in a crash is learned again from the leader, as in etcd), and
    /// the next fsynced one covers it. Everything is checked before anything is written, so a
    /// refused call changes nothing; once writing began, cancellation stops only the wait, and
    /// the log then refuses further writes until reopened.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// The entries leave a gap, start inside the snapshot, are not consecutive, lower the term, or
    /// a normal entry's data is not a whole valid batch (or is a control batch of a kind reserved
    /// for the log); the message names the entry's index.
    /// </exception>
    /// <exception cref="InvalidOperationException">An earlier write failed: reopen the log.</exception>
    public async ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfUnusable();
            CheckEntries(entries, snapshot);
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (snapshot is not null)
                {
                    await InstallAsync(snapshot);
                }

                if (entries.Count > 0)
                {
                    await AppendAsync(entries, cancellationToken);
                }

                if (hardState is { } state)
                {
                    await SaveHardStateAsync(state);
                }
            }
            catch (Exception e)
            {
                Fail(e);
                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Waits until the entries up to the snapshot are durable (not under Never), writes the
    /// snapshot file (temp file, fsync, rename, directory fsync) and moves <see cref="FirstIndex"/>
    /// to its index + 1. No segment data is deleted: readers still read it from
    /// <see cref="Segments"/> until retention removes it.
    /// </remarks>
    /// <exception cref="ArgumentException">The snapshot is beyond the last index or its term does not match the log.</exception>
    /// <exception cref="InvalidOperationException">An earlier write failed: reopen the log.</exception>
    public async ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfUnusable();
            var index = snapshot.Metadata.Index;
            if (index <= _snapshotIndex)
            {
                return;
            }

            if (index > LastIndex)
            {
                throw new ArgumentException(Invariant($"Snapshot at {index} is beyond the last index {LastIndex}."), nameof(snapshot));
            }

            var term = Term(index);
            if (term != snapshot.Metadata.Term)
            {
                throw new ArgumentException(Invariant($"Snapshot at {index}@{snapshot.Metadata.Term} does not match the log's entry {index}@{term}."), nameof(snapshot));
            }

            // A snapshot must not outlive the entries it follows on from: a crash would leave a
            // log that ends before it (recovered, but the data kept for readers would be lost).
            if (_options.Durability != DurabilityPolicy.Never)
            {
                await Segments.WaitForDurableAsync(index, cancellationToken);
            }

            try
            {
                await KeepSnapshotAsync(snapshot);
            }
            catch (Exception e)
            {
                Fail(e);
                throw;
            }

            ShardRaftLogLog.Compacted(_logger, index, index + 1);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Makes a local snapshot (compaction, retention) the latest: Raft's view starts after it.</summary>
    private async ValueTask KeepSnapshotAsync(Snapshot snapshot)
    {
        await SnapshotFile.WriteAsync(_directory, snapshot, restartsLog: false, _fsync);
        SetSnapshot(snapshot);
        _terms.DropThrough(snapshot.Metadata.Index);
    }

    /// <summary>
    /// The snapshot file first, marked as replacing the log, then the segment log restarts after
    /// it: a crash in between leaves a marked snapshot and a segment log that does not start right
    /// after it, which opening recognizes and finishes (FORMAT.md, "Installing a snapshot").
    /// </summary>
    private async ValueTask InstallAsync(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        await SnapshotFile.WriteAsync(_directory, snapshot, restartsLog: true, _fsync);
        Segments.RestartAt(index + 1);
        SetSnapshot(snapshot);
        _terms.Reset(index + 1);
        ShardRaftLogLog.SnapshotInstalled(_logger, index, snapshot.Metadata.Term, snapshot.Data.Length, index + 1);
    }

    private async ValueTask AppendAsync(IReadOnlyList<Entry> entries, CancellationToken cancellationToken)
    {
        var first = entries[0].Index;
        if (first <= Segments.LastIndex)
        {
            Segments.TruncateAfter(first - 1);
            _terms.TruncateAfter(first - 1);
        }

        foreach (var entry in entries)
        {
            var size = AppendEntry(entry);
            _terms.Append(entry.Index, entry.Term);
            _averageBatchBytes += (size - _averageBatchBytes) / 16;
        }

        if (_options.Durability == DurabilityPolicy.Always)
        {
            await Segments.WaitForDurableAsync(entries[^1].Index, cancellationToken);
        }
    }

    /// <summary>Appends the entry's batch (FORMAT.md, "Entries") and returns its size.</summary>
    private int AppendEntry(Entry entry)
    {
        if (entry.Type != EntryType.Normal || entry.Data.IsEmpty)
        {
            return Segments.Append(RaftEntryBatches.BuildControl(_builder, entry).Span).SizeBytes;
        }

        var batch = entry.Data.Span;
        if (RaftEntryBatches.HasPosition(batch, entry.Term, entry.Index))
        {
            return Segments.Append(batch).SizeBytes;
        }

        // The proposer's batch carries placeholders (or another position): a copy gets the
        // entry's term and index and a new CRC; the caller's bytes are not touched.
        var copy = ArrayPool<byte>.Shared.Rent(batch.Length);
        try
        {
            var placed = copy.AsSpan(0, batch.Length);
            batch.CopyTo(placed);
            RaftEntryBatches.SetPosition(placed, entry.Term, entry.Index);
            return Segments.Append(placed).SizeBytes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private async ValueTask SaveHardStateAsync(HardState state)
    {
        var held = _hardState;
        if (state == held && _hardStateFile.State == held)
        {
            return;
        }

        // Term and vote are promises to other nodes: durable before the Ready's messages go out.
        var durable = state.Term != held.Term || state.Vote != held.Vote;
        await _hardStateFile.WriteAsync(state, durable);
        _hardState = state;
    }

    /// <summary>The checks of <see cref="MemoryRaftLog.Append"/> and the batch checks, before anything is written.</summary>
    private void CheckEntries(IReadOnlyList<Entry> entries, Snapshot? snapshot)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var snapshotIndex = snapshot?.Metadata.Index ?? _snapshotIndex;
        var lastIndex = snapshot?.Metadata.Index ?? LastIndex;
        var first = entries[0].Index;
        if (first > lastIndex + 1)
        {
            throw new ArgumentException(Invariant($"Entries start at {first} but the log ends at {lastIndex}: a gap would form."), nameof(entries));
        }

        if (first <= snapshotIndex)
        {
            throw new ArgumentException(Invariant($"Entries start at {first}, inside the snapshot ending at {snapshotIndex}."), nameof(entries));
        }

        var previousTerm = snapshot is not null ? snapshot.Metadata.Term : Term(first - 1);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Index != first + i)
            {
                throw new ArgumentException(Invariant($"Entries are not consecutive: entry {entry.Index} follows entry {first + i - 1}."), nameof(entries));
            }

            if (entry.Term < previousTerm)
            {
                throw new ArgumentException(Invariant($"Entry {entry.Index} has term {entry.Term}, below the term {previousTerm} of the entry before it: terms never decrease in a Raft log."), nameof(entries));
            }

            var problem = RaftEntryBatches.Check(entry, _reader);
            if (problem is not null)
            {
                throw new ArgumentException(Invariant($"Entry {entry.Index} cannot be stored: {problem}."), nameof(entries));
            }

            previousTerm = entry.Term;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_failure is not null)
        {
            throw new InvalidOperationException(Invariant($"An earlier write to the shard Raft log in {_directory} failed; reopen the log to recover what reached the disk."), _failure);
        }
    }

    private void Fail(Exception exception)
    {
        _failure ??= exception;
        ShardRaftLogLog.WriteFailed(_logger, exception, _directory);
    }
}
