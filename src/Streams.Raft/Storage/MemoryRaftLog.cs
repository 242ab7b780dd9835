namespace Streams.Raft.Storage;

/// <summary>
/// An in-memory <see cref="IRaftLogStorage"/>: the reference implementation used by the tests
/// and the simulator, where it stands for "what reached the disk".
/// </summary>
public sealed class MemoryRaftLog : IRaftLogStorage
{
    private readonly List<Entry> _entries = [];
    private HardState _hardState;

    /// <inheritdoc/>
    public long FirstIndex => 1;

    /// <inheritdoc/>
    public long LastIndex => _entries.Count;

    /// <inheritdoc/>
    public HardState InitialState() => _hardState;

    /// <summary>Persists a new hard state.</summary>
    /// <param name="hardState">The state to keep.</param>
    public void SetHardState(HardState hardState) => _hardState = hardState;

    /// <summary>
    /// Persists entries: the first entry's index may be at most LastIndex + 1; held entries from
    /// that index on are replaced (a follower overwriting a conflicting suffix).
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

        for (var i = 1; i < entries.Count; i++)
        {
            if (entries[i].Index != first + i)
            {
                throw new ArgumentException("Entries are not consecutive.", nameof(entries));
            }
        }

        _entries.RemoveRange((int)(first - 1), (int)(LastIndex - first + 1));
        _entries.AddRange(entries);
    }

    /// <inheritdoc/>
    public long Term(long index)
    {
        if (index == 0)
        {
            return 0;
        }

        Check(index, index + 1);
        return _entries[(int)(index - 1)].Term;
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
            var entry = _entries[(int)(i - 1)];
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
