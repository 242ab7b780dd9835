namespace Streams.Server.Metadata;

/// <summary>How many shard replicas a node holds and how many of those groups it was last reported to lead.</summary>
/// <param name="Replicas">Replicas of any shard, open or closed.</param>
/// <param name="Leaders">Groups whose last reported leader is the node.</param>
public readonly record struct NodeShardCounts(int Replicas, int Leaders);
