namespace Streams.Raft.Membership;

/// <summary>
/// A single-node membership change (thesis §4.1: one server at a time, so the majorities of the
/// old and new configurations always overlap).
/// </summary>
/// <param name="Type">What to do.</param>
/// <param name="NodeId">The node it is done to.</param>
/// <param name="Context">Opaque bytes for the host (for example the node's address), carried in the log with the change.</param>
public readonly record struct ConfChange(ConfChangeType Type, long NodeId, ReadOnlyMemory<byte> Context = default)
{
    /// <summary>Adds <paramref name="nodeId"/> as a learner.</summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="context">Opaque bytes for the host.</param>
    public static ConfChange AddLearner(long nodeId, ReadOnlyMemory<byte> context = default) => new(ConfChangeType.AddLearner, nodeId, context);

    /// <summary>Promotes the learner <paramref name="nodeId"/> to voter.</summary>
    /// <param name="nodeId">The node.</param>
    public static ConfChange Promote(long nodeId) => new(ConfChangeType.PromoteLearner, nodeId);

    /// <summary>Removes <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The node.</param>
    public static ConfChange Remove(long nodeId) => new(ConfChangeType.RemoveNode, nodeId);
}
