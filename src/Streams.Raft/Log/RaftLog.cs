using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Storage;

namespace Streams.Raft.Log;

/// <summary>
/// The core's view of the log: the stable part in <see cref="IRaftLogStorage"/> and an unstable
/// tail of entries not yet persisted (handed out in a Ready, dropped from here once the host
/// calls Advance). Entries at or after <see cref="_offset"/> shadow the storage's.
/// A snapshot received from a leader and not yet persisted shadows the storage entirely.
/// Also tracks the commit and applied indexes (applied &lt;= committed &lt;= last index) and the
/// membership, which is that of the last configuration entry in the log (thesis §4.1), so it
/// moves back when a truncation removes that entry.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftLogStorage _storage;
    private readonly List<Entry> _unstable = [];

    // (index, membership) for the base (snapshot or bootstrap) and each configuration entry after it.
    private readonly List<(long Index, ConfState State)> _configs = [];
    private long _offset;

    public RaftLog(IRaftLogStorage storage, long committed, long applied, ConfState bootstrap)
    {
        _storage = storage;
        _offset = storage.LastIndex + 1;

        // The snapshot's entries are committed; a crash between persisting a received snapshot and
        // the hard state can leave the persisted commit index behind it.
        var snapshotIndex = storage.FirstIndex - 1;
        committed = Math.Max(committed, snapshotIndex);

        // A host restores its state machine from the snapshot, so it has applied at least that far.
        applied = Math.Min(Math.Max(applied, snapshotIndex), committed);
        _configs.Add((snapshotIndex, storage.Snapshot?.Metadata.ConfState ?? bootstrap));
        if (storage.LastIndex >= storage.FirstIndex)
        {
            foreach (var entry in storage.Entries(storage.FirstIndex, storage.LastIndex + 1, long.MaxValue))
            {
                TrackConfig(entry);
            }
        }

        if (committed > LastIndex)
        {
            throw new RaftInvariantException(
                $"The persisted commit index {committed} is beyond the persisted last index {LastIndex}: the log was lost or truncated.");
        }

        if (applied > committed || applied < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(applied), $"Applied index {applied} is not within [0, {committed}].");
        }

        Committed = committed;
        Applied = applied;
    }

    public long Committed { get; private set; }

    public long Applied { get; private set; }

    public long LastIndex => _unstable.Count > 0
        ? _offset + _unstable.Count - 1
        : PendingSnapshot is { } snapshot ? snapshot.Metadata.Index : _storage.LastIndex;

    public long LastTerm => Term(LastIndex);

    public IReadOnlyList<Entry> Unstable => _unstable;

    public bool HasNextCommitted => Committed > Applied;

    /// <summary>A snapshot received from a leader, not yet persisted.</summary>
    public Snapshot? PendingSnapshot { get; private set; }

    /// <summary>The first index of an entry held: one past the latest snapshot.</summary>
    public long FirstIndex => PendingSnapshot is { } snapshot ? snapshot.Metadata.Index + 1 : _storage.FirstIndex;

    /// <summary>The latest snapshot, to send to a follower that needs compacted entries.</summary>
    public Snapshot? Snapshot => PendingSnapshot ?? _storage.Snapshot;

    /// <summary>The membership in force: that of the last configuration entry in the log.</summary>
    public ConfState ConfState => _configs[^1].State;

    /// <summary>The index of the last configuration entry in the log (or of the base configuration).</summary>
    public long LastConfigIndex => _configs[^1].Index;

    /// <summary>The membership as of <paramref name="index"/>.</summary>
    public ConfState ConfStateAt(long index)
    {
        for (var i = _configs.Count - 1; i > 0; i--)
        {
            if (_configs[i].Index <= index)
            {
                return _configs[i].State;
            }
        }

        return _configs[0].State;
    }

    public long Term(long index)
    {
        if (!TryTerm(index, out var term))
        {
            throw new RaftInvariantException($"No entry at index {index}; the log ends at {LastIndex}.");
        }

        return term;
    }

    /// <summary>The term at <paramref name="index"/>; false when beyond the log or compacted (before the snapshot).</summary>
    public bool TryTerm(long index, out long term)
    {
        term = 0;
        if (index < FirstIndex - 1 || index > LastIndex)
        {
            return false;
        }

        if (index >= _offset)
        {
            term = _unstable[(int)(index - _offset)].Term;
            return true;
        }

        if (PendingSnapshot is { } snapshot)
        {
            // Below _offset with a pending snapshot, only the snapshot's own index is held.
            term = snapshot.Metadata.Term;
            return true;
        }

        term = _storage.Term(index);
        return true;
    }

    /// <summary>True when entries from <paramref name="index"/> on were compacted behind a snapshot.</summary>
    public bool IsCompacted(long index) => index < FirstIndex;

    public bool MatchTerm(long index, long term) => TryTerm(index, out var t) && t == term;

    /// <summary>§5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours?</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm)
    {
        var ourTerm = LastTerm;
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex);
    }

    /// <summary>Entries from <paramref name="lo"/> on, at most <paramref name="maxCount"/> and (beyond the first) <paramref name="maxBytes"/>.</summary>
    public IReadOnlyList<Entry> Entries(long lo, int maxCount, long maxBytes)
    {
        var hi = Math.Min(LastIndex + 1, lo + maxCount);
        if (lo >= hi)
        {
            return [];
        }

        if (lo < FirstIndex)
        {
            throw new RaftLogException(RaftLogError.Compacted, $"Index {lo} is before the first index {FirstIndex}.");
        }

        var result = new List<Entry>();
        if (lo < _offset)
        {
            result.AddRange(_storage.Entries(lo, Math.Min(hi, _offset), maxBytes));
            if (result.Count < Math.Min(hi, _offset) - lo)
            {
                return result;
            }
        }

        long bytes = 0;
        foreach (var e in result)
        {
            bytes += e.SizeBytes;
        }

        for (var i = Math.Max(lo, _offset); i < hi; i++)
        {
            var entry = _unstable[(int)(i - _offset)];
            bytes += entry.SizeBytes;
            if (result.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            result.Add(entry);
        }

        return result;
    }

    /// <summary>
    /// §5.3: appends entries following (prevIndex, prevTerm) if our log holds that entry; an
    /// existing entry that conflicts with a new one (same index, other term) is deleted with all
    /// that follow it; entries already present are kept (a stale or duplicated Append never
    /// truncates). Returns the index of the last new entry, or -1 when prevIndex does not match.
    /// </summary>
    public long MaybeAppend(long prevIndex, long prevTerm, long leaderCommit, IReadOnlyList<Entry> entries)
    {
        if (!MatchTerm(prevIndex, prevTerm))
        {
            return -1;
        }

        var lastNew = prevIndex + entries.Count;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Index != prevIndex + 1 + i)
            {
                throw new RaftInvariantException($"Append entries are not consecutive after {prevIndex}.");
            }

            if (!MatchTerm(e.Index, e.Term))
            {
                Append(entries.Skip(i).ToList());
                break;
            }
        }

        CommitTo(Math.Min(leaderCommit, lastNew));
        return lastNew;
    }

    /// <summary>Appends entries, replacing any held from the first new entry's index on.</summary>
    public void Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var from = entries[0].Index;
        if (from - 1 < Committed)
        {
            throw new RaftInvariantException(
                $"Refusing to overwrite committed entries: append from {from} but commit is {Committed}.");
        }

        if (from > LastIndex + 1)
        {
            throw new RaftInvariantException($"Append from {from} would leave a gap after {LastIndex}.");
        }

        while (_configs.Count > 1 && _configs[^1].Index >= from)
        {
            // The configuration entry is being overwritten: the one before it is in force again.
            _configs.RemoveAt(_configs.Count - 1);
        }

        foreach (var entry in entries)
        {
            TrackConfig(entry);
        }

        if (from == _offset + _unstable.Count)
        {
            _unstable.AddRange(entries);
        }
        else if (from <= _offset)
        {
            _offset = from;
            _unstable.Clear();
            _unstable.AddRange(entries);
        }
        else
        {
            _unstable.RemoveRange((int)(from - _offset), _unstable.Count - (int)(from - _offset));
            _unstable.AddRange(entries);
        }
    }

    /// <summary>Finds, at or below <paramref name="index"/>, the last index whose term is at most <paramref name="term"/>.</summary>
    public (long Index, long Term) FindConflictByTerm(long index, long term)
    {
        index = Math.Min(index, LastIndex);
        if (index < FirstIndex - 1)
        {
            // Compacted here: the terms are unknown, and probing there ends in a snapshot.
            return (index, 0);
        }

        while (index >= FirstIndex)
        {
            var t = Term(index);
            if (t <= term)
            {
                return (index, t);
            }

            index--;
        }

        return (index, Term(index));
    }

    /// <summary>Raises the commit index; a lower value is ignored, one beyond the log stops the node.</summary>
    public void CommitTo(long index)
    {
        if (index <= Committed)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new RaftInvariantException(
                $"Commit index {index} is beyond the last index {LastIndex}: the log was corrupted, truncated or lost.");
        }

        Committed = index;
    }

    public IReadOnlyList<Entry> NextCommitted() =>
        HasNextCommitted ? Entries(Applied + 1, (int)Math.Min(Committed - Applied, int.MaxValue), long.MaxValue) : [];

    public void StableTo(long index, long term)
    {
        if (index < _offset || !MatchTerm(index, term))
        {
            return;
        }

        var count = (int)(index - _offset + 1);
        _unstable.RemoveRange(0, count);
        _offset = index + 1;
    }

    /// <summary>
    /// Installs a snapshot from the leader: the log becomes the snapshot alone (the entries after it
    /// are dropped with the rest, since they may conflict), committed and applied up to it.
    /// </summary>
    public void Restore(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        if (index <= Committed)
        {
            throw new RaftInvariantException($"Restoring snapshot {index} at or below the commit index {Committed}.");
        }

        PendingSnapshot = snapshot;
        _unstable.Clear();
        _offset = index + 1;
        Committed = index;
        Applied = index;
        _configs.Clear();
        _configs.Add((index, snapshot.Metadata.ConfState));
    }

    /// <summary>The pending snapshot was persisted.</summary>
    public void StableSnapshotTo(long index)
    {
        if (PendingSnapshot is { } snapshot && snapshot.Metadata.Index == index)
        {
            PendingSnapshot = null;
        }
    }

    public void AppliedTo(long index)
    {
        if (index < Applied || index > Committed)
        {
            throw new RaftInvariantException($"Applied index {index} is not within [{Applied}, {Committed}].");
        }

        Applied = index;
    }

    private void TrackConfig(Entry entry)
    {
        if (entry.Type == EntryType.Config)
        {
            _configs.Add((entry.Index, ConfigEntry.Decode(entry.Data.Span).State));
        }
    }
}
