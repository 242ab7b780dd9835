namespace Streams.Raft.Storage;

/// <summary>
/// The read side of a node's persisted Raft state, as the core sees it: the persisted
/// <see cref="HardState"/>, the latest snapshot and the stable log after it. The host writes to
/// it (persisting each Ready, see <see cref="IRaftStorage"/>) before calling
/// <c>RaftNode.Advance</c>; the core only reads.
/// </summary>
/// <remarks>
/// Index 0 is a sentinel with term 0. Once a snapshot compacted the log, entries up to the
/// snapshot's index are gone, <see cref="FirstIndex"/> is one past it, and
/// <c>Term(FirstIndex - 1)</c> is the snapshot's term. Reads outside the held range fail with a
/// <see cref="RaftLogException"/> naming the <see cref="RaftLogError"/>.
/// </remarks>
public interface IRaftLogStorage
{
    /// <summary>The persisted hard state (<see cref="HardState.Empty"/> for a new node).</summary>
    HardState InitialState();

    /// <summary>The latest snapshot, or null when the log was never compacted.</summary>
    Snapshot? Snapshot { get; }

    /// <summary>The first index of a real entry held: 1, or one past the snapshot's index.</summary>
    long FirstIndex { get; }

    /// <summary>The last index held (the snapshot's index when no entry follows it); 0 when empty.</summary>
    long LastIndex { get; }

    /// <summary>The term of the entry at <paramref name="index"/>: 0 for index 0, the snapshot's term for its index.</summary>
    /// <param name="index">An index in [FirstIndex - 1, LastIndex].</param>
    /// <exception cref="RaftLogException">The index is compacted or beyond the last index.</exception>
    long Term(long index);

    /// <summary>
    /// The entries in [<paramref name="lo"/>, <paramref name="hi"/>), stopping once
    /// <paramref name="maxBytes"/> would be exceeded, but always at least one entry when the range
    /// is not empty.
    /// </summary>
    /// <param name="lo">The first index wanted, inclusive; at least FirstIndex.</param>
    /// <param name="hi">The end of the range, exclusive; at most LastIndex + 1.</param>
    /// <param name="maxBytes">A bound on the summed <see cref="Entry.SizeBytes"/>.</param>
    /// <exception cref="RaftLogException">Part of the range is compacted or beyond the last index.</exception>
    IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes);
}
