namespace Streams.Raft.Membership;

/// <summary>The kinds of single-node membership change.</summary>
public enum ConfChangeType
{
    /// <summary>Adds a node as a learner: it receives the log but does not vote.</summary>
    AddLearner = 1,

    /// <summary>Promotes a learner that has caught up with the leader to a voter.</summary>
    PromoteLearner = 2,

    /// <summary>Removes a voter or a learner, the leader itself included.</summary>
    RemoveNode = 3,
}
