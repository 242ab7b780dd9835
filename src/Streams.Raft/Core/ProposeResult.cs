namespace Streams.Raft.Core;

/// <summary>The outcome of a proposal.</summary>
/// <param name="Status">Accepted or not.</param>
/// <param name="Index">When accepted: the index the entry was given.</param>
/// <param name="Term">When accepted: the term the entry was given (index and term identify it).</param>
/// <param name="LeaderHint">When refused: the leader this node knows of (itself while transferring), or 0.</param>
/// <param name="Reason">When a membership change is rejected: why, in words a person can act on.</param>
public readonly record struct ProposeResult(ProposeStatus Status, long Index, long Term, long LeaderHint, string? Reason = null)
{
    /// <summary>True when the entry was appended.</summary>
    public bool IsAccepted => Status == ProposeStatus.Accepted;

    /// <summary>An accepted proposal.</summary>
    /// <param name="index">The entry's index.</param>
    /// <param name="term">The entry's term.</param>
    public static ProposeResult Accepted(long index, long term) => new(ProposeStatus.Accepted, index, term, 0);

    /// <summary>A refused proposal.</summary>
    /// <param name="leaderHint">The known leader, or 0.</param>
    public static ProposeResult NotLeader(long leaderHint) => new(ProposeStatus.NotLeader, 0, 0, leaderHint);

    /// <summary>A proposal refused because leadership is being transferred.</summary>
    /// <param name="leader">This node, still the leader.</param>
    public static ProposeResult TransferInProgress(long leader) => new(ProposeStatus.TransferInProgress, 0, 0, leader);

    /// <summary>A membership change refused until the previous one commits.</summary>
    /// <param name="leader">This node, the leader.</param>
    /// <param name="reason">What is pending.</param>
    public static ProposeResult ConfChangePending(long leader, string reason) => new(ProposeStatus.ConfChangePending, 0, 0, leader, reason);

    /// <summary>An invalid membership change.</summary>
    /// <param name="leader">This node, the leader.</param>
    /// <param name="reason">Why it is invalid.</param>
    public static ProposeResult ConfChangeRejected(long leader, string reason) => new(ProposeStatus.ConfChangeRejected, 0, 0, leader, reason);
}
