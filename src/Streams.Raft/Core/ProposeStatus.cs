namespace Streams.Raft.Core;

/// <summary>The outcome of <see cref="RaftNode.Propose"/>.</summary>
public enum ProposeStatus
{
    /// <summary>Appended to the leader's log; committed later, or lost if leadership changes first.</summary>
    Accepted = 1,

    /// <summary>This node is not the leader; retry at <see cref="ProposeResult.LeaderHint"/> when known.</summary>
    NotLeader = 2,

    /// <summary>
    /// This node is the leader but is transferring leadership (thesis §3.10); retry at the new
    /// leader, or here once the transfer is abandoned.
    /// </summary>
    TransferInProgress = 3,

    /// <summary>
    /// A membership change was refused because an earlier one is not committed yet, or because
    /// this leader has not yet committed an entry of its own term (both needed for single-node
    /// changes to be safe); retry shortly.
    /// </summary>
    ConfChangePending = 4,

    /// <summary>
    /// A membership change was refused as invalid (see <see cref="ProposeResult.Reason"/>): for
    /// example adding a member twice, promoting a learner that has not caught up, or removing the
    /// last voter.
    /// </summary>
    ConfChangeRejected = 5,
}
