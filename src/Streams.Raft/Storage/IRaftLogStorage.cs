namespace Streams.Raft.Storage;

/// <summary>
/// The read side of a node's persisted Raft state, as the core sees it: the persisted
/// <see cref="HardState"/> and the stable log. The host writes to it (persisting each Ready)
/// before calling <c>RaftNode.Advance</c>; the core only reads.
/// </summary>
/// <remarks>
/// Index 0 is a sentinel with term 0 that every log holds, so <c>Term(0)</c> is always 0.
/// Reads outside the held range fail with a <see cref="RaftLogException"/> naming the
/// <see cref="RaftLogError"/>.
/// </remarks>
public interface IRaftLogStorage
{
    /// <summary>The persisted hard state (<see cref="HardState.Empty"/> for a new node).</summary>
    HardState InitialState();

    /// <summary>The first index of a real entry held (1 while nothing is compacted).</summary>
    long FirstIndex { get; }

    /// <summary>The last index held; 0 when the log is empty.</summary>
    long LastIndex { get; }

    /// <summary>The term of the entry at <paramref name="index"/>, 0 for index 0.</summary>
    /// <param name="index">An index in [FirstIndex - 1, LastIndex].</param>
    /// <exception cref="RaftLogException">The index is compacted or beyond the last index.</exception>
    long Term(long index);

    /// <summary>
    /// The entries in [<paramref name="lo"/>, <paramref name="hi"/>), stopping once
    /// <paramref name="maxBytes"/> would be exceeded, but always at least one entry when the range
    /// is not empty.
    /// </summary>
    /// <param name="lo">The first index wanted, inclusive.</param>
    /// <param name="hi">The end of the range, exclusive; at most LastIndex + 1.</param>
    /// <param name="maxBytes">A bound on the summed <see cref="Entry.SizeBytes"/>.</param>
    /// <exception cref="RaftLogException">Part of the range is compacted or beyond the last index.</exception>
    IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes);
}
