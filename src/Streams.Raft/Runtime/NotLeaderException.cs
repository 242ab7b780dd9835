namespace Streams.Raft.Runtime;

/// <summary>
/// This node cannot serve the request because it is not the group's leader (or stopped being it
/// while the request waited). Retry at <see cref="LeaderHint"/> when it is known.
/// </summary>
public sealed class NotLeaderException : Exception
{
    /// <summary>Creates the exception for a request refused or abandoned by a node that is not the leader.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="nodeId">This node.</param>
    /// <param name="leaderHint">The leader this node knows of, or 0.</param>
    /// <param name="mayHaveCommitted">True when an entry was already appended and may still commit under the next leader.</param>
    public NotLeaderException(long groupId, long nodeId, long leaderHint, bool mayHaveCommitted)
        : base(Describe(groupId, nodeId, leaderHint, mayHaveCommitted))
    {
        GroupId = groupId;
        NodeId = nodeId;
        LeaderHint = leaderHint;
        MayHaveCommitted = mayHaveCommitted;
    }

    /// <summary>Creates the exception.</summary>
    public NotLeaderException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public NotLeaderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public NotLeaderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The group.</summary>
    public long GroupId { get; }

    /// <summary>The node that refused.</summary>
    public long NodeId { get; }

    /// <summary>The node to retry at (the leader this node knows of, or the target of a leadership transfer), or 0 when none is known.</summary>
    public long LeaderHint { get; }

    /// <summary>
    /// True when the proposal had been appended before leadership was lost: the next leader may
    /// still commit it, so a retry may apply it twice unless it is idempotent. False: it was never
    /// appended.
    /// </summary>
    public bool MayHaveCommitted { get; }

    private static string Describe(long groupId, long nodeId, long leaderHint, bool mayHaveCommitted) =>
        $"Node {nodeId} is not the leader of Raft group {groupId}; "
        + (leaderHint == 0 ? "no leader is known yet, retry shortly" : $"retry at node {leaderHint}")
        + (mayHaveCommitted ? " (the entry was appended and may still commit)." : ".");
}
