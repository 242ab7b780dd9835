using Streams.Raft.Core;
using Streams.Raft.Storage;

namespace Streams.Raft.Log;

/// <summary>
/// The core's view of the log: the stable part in <see cref="IRaftLogStorage"/> and an unstable
/// tail of entries not yet persisted (handed out in a Ready, dropped from here once the host
/// calls Advance). Entries at or after <see cref="_offset"/> shadow the storage's.
/// Also tracks the commit and applied indexes: applied &lt;= committed &lt;= last index.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftLogStorage _storage;
    private readonly List<Entry> _unstable = [];
    private long _offset;

    public RaftLog(IRaftLogStorage storage, long committed, long applied)
    {
        _storage = storage;
        _offset = storage.LastIndex + 1;
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

    public long LastIndex => _unstable.Count > 0 ? _offset + _unstable.Count - 1 : _storage.LastIndex;

    public long LastTerm => Term(LastIndex);

    public IReadOnlyList<Entry> Unstable => _unstable;

    public bool HasNextCommitted => Committed > Applied;

    public long Term(long index)
    {
        if (!TryTerm(index, out var term))
        {
            throw new RaftInvariantException($"No entry at index {index}; the log ends at {LastIndex}.");
        }

        return term;
    }

    public bool TryTerm(long index, out long term)
    {
        term = 0;
        if (index < 0 || index > LastIndex)
        {
            return false;
        }

        if (index >= _offset)
        {
            term = _unstable[(int)(index - _offset)].Term;
            return true;
        }

        term = _storage.Term(index);
        return true;
    }

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
        while (index > 0)
        {
            var t = Term(index);
            if (t <= term)
            {
                return (index, t);
            }

            index--;
        }

        return (0, 0);
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

    public void AppliedTo(long index)
    {
        if (index < Applied || index > Committed)
        {
            throw new RaftInvariantException($"Applied index {index} is not within [{Applied}, {Committed}].");
        }

        Applied = index;
    }
}
