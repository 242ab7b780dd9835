namespace Streams.Raft.Core;

/// <summary>The outcome of <see cref="RaftNode.Propose"/>.</summary>
public enum ProposeStatus
{
    /// <summary>Appended to the leader's log; committed later, or lost if leadership changes first.</summary>
    Accepted = 1,

    /// <summary>This node is not the leader; retry at <see cref="ProposeResult.LeaderHint"/> when known.</summary>
    NotLeader = 2,
}
