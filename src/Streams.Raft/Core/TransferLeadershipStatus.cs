namespace Streams.Raft.Core;

/// <summary>The outcome of <see cref="RaftNode.TransferLeadership"/>.</summary>
public enum TransferLeadershipStatus
{
    /// <summary>The transfer started: proposals are refused until it succeeds or is abandoned.</summary>
    Started = 1,

    /// <summary>This node is not the leader; nothing changed.</summary>
    NotLeader = 2,

    /// <summary>The target is this node, the leader already; nothing changed.</summary>
    TargetIsSelf = 3,

    /// <summary>The target is not a voter of the configuration; nothing changed.</summary>
    TargetNotVoter = 4,

    /// <summary>A transfer is already in progress; nothing changed.</summary>
    AlreadyInProgress = 5,
}
