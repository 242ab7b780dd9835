namespace Streams.Server.Metadata;

/// <summary>
/// Moving one replica of a shard's group from one node to another. The runtime carries it out as
/// AddLearner(<see cref="ToNode"/>), PromoteLearner(<see cref="ToNode"/>), RemoveNode(<see cref="FromNode"/>)
/// on the group, then applies ReplicaMoveStep FINISH so the replica set follows.
/// </summary>
/// <param name="GroupId">The shard's Raft group.</param>
/// <param name="FromNode">The node giving up its replica.</param>
/// <param name="ToNode">The node receiving one.</param>
public sealed record ReplicaMove(long GroupId, string FromNode, string ToNode);
