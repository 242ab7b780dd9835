using Streams.Raft.Core;
using Streams.Raft.Membership;

namespace Streams.Raft.Runtime;

/// <summary>
/// A group's state as its loop last published it (after each round, and before answering the
/// callers a round completes, so a caller sees at least the state its answer came from). Cheap
/// to read from any thread.
/// </summary>
/// <param name="GroupId">The group.</param>
/// <param name="NodeId">This node.</param>
/// <param name="Role">This node's role.</param>
/// <param name="Term">The current term.</param>
/// <param name="Leader">The leader this node knows of, or 0.</param>
/// <param name="CommitIndex">The highest index known committed.</param>
/// <param name="AppliedIndex">The highest index applied to the state machine.</param>
/// <param name="LastIndex">The index of the last entry in this node's log.</param>
/// <param name="ConfState">The membership in force on this node.</param>
public sealed record RaftGroupStatus(long GroupId, long NodeId, RaftRole Role, long Term, long Leader, long CommitIndex, long AppliedIndex, long LastIndex, ConfState ConfState)
{
    /// <summary>True when this node is the leader.</summary>
    public bool IsLeader => Role == RaftRole.Leader;
}
