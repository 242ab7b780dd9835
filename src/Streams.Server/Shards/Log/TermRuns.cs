namespace Streams.Server.Shards.Log;

/// <summary>
/// The term of every entry in [<see cref="FirstIndex"/>, <see cref="LastIndex"/>], kept as runs
/// of equal terms: a run starts where the term changes. Terms only change at elections, so a log
/// of millions of entries needs a handful of runs, and a lookup is a binary search over them
/// instead of a read of the entry's batch from disk.
/// </summary>
internal sealed class TermRuns
{
    // Start indexes strictly increase; each run lasts until the next one starts (or LastIndex).
    private readonly List<TermRun> _runs = [];

    /// <summary>Creates an empty map that takes <paramref name="firstIndex"/> first.</summary>
    public TermRuns(long firstIndex)
    {
        Reset(firstIndex);
    }

    /// <summary>The first index covered (LastIndex + 1 when empty).</summary>
    public long FirstIndex { get; private set; }

    /// <summary>The last index covered.</summary>
    public long LastIndex { get; private set; }

    /// <summary>How many runs are kept.</summary>
    public int RunCount => _runs.Count;

    /// <summary>Forgets every entry; the next one appended is <paramref name="firstIndex"/>.</summary>
    public void Reset(long firstIndex)
    {
        _runs.Clear();
        FirstIndex = firstIndex;
        LastIndex = firstIndex - 1;
    }

    /// <summary>Adds the entry after the last one.</summary>
    /// <exception cref="InvalidOperationException">The index does not follow on.</exception>
    public void Append(long index, long term)
    {
        if (index != LastIndex + 1)
        {
            throw new InvalidOperationException($"Term of index {index} recorded after index {LastIndex}.");
        }

        if (_runs.Count == 0 || _runs[^1].Term != term)
        {
            _runs.Add(new TermRun(index, term));
        }

        LastIndex = index;
    }

    /// <summary>Forgets the entries after <paramref name="index"/> (at least FirstIndex - 1).</summary>
    public void TruncateAfter(long index)
    {
        if (index >= LastIndex)
        {
            return;
        }

        index = Math.Max(index, FirstIndex - 1);
        while (_runs.Count > 0 && _runs[^1].Start > index)
        {
            _runs.RemoveAt(_runs.Count - 1);
        }

        LastIndex = index;
    }

    /// <summary>Forgets the entries up to <paramref name="index"/>: the map then starts at <paramref name="index"/> + 1.</summary>
    public void DropThrough(long index)
    {
        if (index < FirstIndex)
        {
            return;
        }

        if (index >= LastIndex)
        {
            Reset(index + 1);
            return;
        }

        var holder = Find(index + 1);
        _runs.RemoveRange(0, holder);
        _runs[0] = _runs[0] with { Start = index + 1 };
        FirstIndex = index + 1;
    }

    /// <summary>The term of the entry at <paramref name="index"/>, which must be covered.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not covered.</exception>
    public long Term(long index)
    {
        if (index < FirstIndex || index > LastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Terms are known for indexes {FirstIndex} to {LastIndex}.");
        }

        return _runs[Find(index)].Term;
    }

    // The position of the run holding index: the last run starting at or before it.
    private int Find(long index)
    {
        int low = 0, high = _runs.Count - 1;
        while (low < high)
        {
            var middle = (low + high + 1) >>> 1;
            if (_runs[middle].Start <= index)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }
}
