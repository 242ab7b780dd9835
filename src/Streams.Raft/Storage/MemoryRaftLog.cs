namespace Streams.Raft.Storage;

/// <summary>
/// An in-memory <see cref="IRaftStorage"/>: the reference implementation used by the tests and
/// the simulator, where it stands for "what reached the disk". Its writes complete at once.
/// </summary>
public sealed class MemoryRaftLog : IRaftStorage
{
    // _entries[i] is the entry at index _snapshotIndex + 1 + i.
    private readonly List<Entry> _entries = [];
    private HardState _hardState;
    private long _snapshotIndex;
    private long _snapshotTerm;

    /// <inheritdoc/>
    public Snapshot? Snapshot { get; private set; }

    /// <inheritdoc/>
    public long FirstIndex => _snapshotIndex + 1;

    /// <inheritdoc/>
    public long LastIndex => _snapshotIndex + _entries.Count;

    /// <inheritdoc/>
    public HardState InitialState() => _hardState;

    /// <summary>Persists a new hard state.</summary>
    /// <param name="hardState">The state to keep.</param>
    public void SetHardState(HardState hardState) => _hardState = hardState;

    /// <summary>
    /// Persists entries: the first entry's index may be at most LastIndex + 1 and must be after
    /// the snapshot; held entries from that index on are replaced (a follower overwriting a
    /// conflicting suffix).
    /// </summary>
    /// <param name="entries">Consecutive entries.</param>
    public void Append(IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        var first = entries[0].Index;
        if (first > LastIndex + 1)
        {
            throw new ArgumentException(
                $"Entries start at {first} but the log ends at {LastIndex}: a gap would form.", nameof(entries));
        }

        if (first <= _snapshotIndex)
        {
            throw new ArgumentException(
                $"Entries start at {first}, inside the snapshot ending at {_snapshotIndex}.", nameof(entries));
        }

        for (var i = 1; i < entries.Count; i++)
        {
            if (entries[i].Index != first + i)
            {
                throw new ArgumentException("Entries are not consecutive.", nameof(entries));
            }
        }

        var keep = (int)(first - FirstIndex);
        _entries.RemoveRange(keep, _entries.Count - keep);
        _entries.AddRange(entries);
    }

    /// <summary>Installs a snapshot received from a leader: the whole log is replaced by it.</summary>
    /// <param name="snapshot">The snapshot.</param>
    public void ApplySnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Snapshot = snapshot;
        _snapshotIndex = snapshot.Metadata.Index;
        _snapshotTerm = snapshot.Metadata.Term;
        _entries.Clear();
    }

    /// <summary>
    /// Keeps a snapshot of the local state machine and drops the entries it covers; one not
    /// newer than the held snapshot is ignored.
    /// </summary>
    /// <param name="snapshot">A snapshot at an index in [FirstIndex, LastIndex].</param>
    public void Compact(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var index = snapshot.Metadata.Index;
        if (index <= _snapshotIndex)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new ArgumentException($"Snapshot at {index} is beyond the last index {LastIndex}.", nameof(snapshot));
        }

        if (Term(index) != snapshot.Metadata.Term)
        {
            throw new ArgumentException(
                $"Snapshot at {index}@{snapshot.Metadata.Term} does not match the log's entry {index}@{Term(index)}.", nameof(snapshot));
        }

        _entries.RemoveRange(0, (int)(index - _snapshotIndex));
        Snapshot = snapshot;
        _snapshotIndex = index;
        _snapshotTerm = snapshot.Metadata.Term;
    }

    /// <inheritdoc/>
    public ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken)
    {
        if (snapshot is not null)
        {
            ApplySnapshot(snapshot);
        }

        Append(entries);
        if (hardState is { } state)
        {
            SetHardState(state);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        Compact(snapshot);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public long Term(long index)
    {
        if (index == _snapshotIndex)
        {
            return _snapshotTerm;
        }

        Check(index, index + 1);
        return _entries[(int)(index - FirstIndex)].Term;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes)
    {
        if (lo > hi)
        {
            throw new ArgumentException($"Invalid range [{lo}, {hi}).", nameof(lo));
        }

        Check(lo, hi);
        var result = new List<Entry>();
        long bytes = 0;
        for (var i = lo; i < hi; i++)
        {
            var entry = _entries[(int)(i - FirstIndex)];
            bytes += entry.SizeBytes;
            if (result.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            result.Add(entry);
        }

        return result;
    }

    private void Check(long lo, long hi)
    {
        if (lo < FirstIndex)
        {
            throw new RaftLogException(
                RaftLogError.Compacted, $"Index {lo} is before the first index {FirstIndex}.");
        }

        if (hi > LastIndex + 1)
        {
            throw new RaftLogException(
                RaftLogError.Unavailable, $"Index {hi - 1} is beyond the last index {LastIndex}.");
        }
    }
}
