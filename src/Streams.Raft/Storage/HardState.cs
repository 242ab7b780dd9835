namespace Streams.Raft.Storage;

/// <summary>
/// The state a node must persist before sending the messages of the same Ready: its current
/// term, the candidate it voted for in that term (0 for none) and its commit index.
/// </summary>
/// <param name="Term">The current term; never decreases.</param>
/// <param name="Vote">The node voted for in <paramref name="Term"/>, or 0 (none).</param>
/// <param name="Commit">The highest index known committed; never decreases.</param>
public readonly record struct HardState(long Term, long Vote, long Commit)
{
    /// <summary>The state of a node that has never run: term 0, no vote, nothing committed.</summary>
    public static HardState Empty => default;
}
