namespace Streams.Raft.Tracker;

/// <summary>
/// The in-flight window of one follower in <see cref="ProgressState.Replicate"/>: the last index
/// of each Append sent and not yet acknowledged, oldest first, at most <see cref="Capacity"/>.
/// </summary>
internal sealed class Inflights
{
    private readonly Queue<long> _lastIndexes = new();

    /// <summary>Creates an empty window.</summary>
    /// <param name="capacity">The most unacknowledged Appends allowed; at least 1.</param>
    public Inflights(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The most unacknowledged Appends allowed.</summary>
    public int Capacity { get; }

    /// <summary>The number of unacknowledged Appends.</summary>
    public int Count => _lastIndexes.Count;

    /// <summary>True when no further Append may be sent.</summary>
    public bool IsFull => _lastIndexes.Count >= Capacity;

    /// <summary>Records an Append whose last entry is <paramref name="lastIndex"/>.</summary>
    /// <param name="lastIndex">The index of the last entry sent.</param>
    public void Add(long lastIndex)
    {
        if (IsFull)
        {
            throw new InvalidOperationException("The in-flight window is full.");
        }

        _lastIndexes.Enqueue(lastIndex);
    }

    /// <summary>Frees every Append whose last index is at most <paramref name="index"/>.</summary>
    /// <param name="index">An acknowledged index.</param>
    public void FreeLessOrEqual(long index)
    {
        while (_lastIndexes.Count > 0 && _lastIndexes.Peek() <= index)
        {
            _lastIndexes.Dequeue();
        }
    }

    /// <summary>Frees the oldest Append (a heartbeat answer proves the follower is alive).</summary>
    public void FreeFirst() => _lastIndexes.TryDequeue(out _);

    /// <summary>Empties the window.</summary>
    public void Reset() => _lastIndexes.Clear();
}
