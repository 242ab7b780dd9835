namespace Streams.Server.Shards;

/// <summary>Which shard a replica holds: its stream (name and never-reused id), its shard id and its Raft group.</summary>
/// <param name="StreamName">The stream's name.</param>
/// <param name="StreamId">The stream's id, distinct for a stream deleted and created again under the same name.</param>
/// <param name="ShardId">The shard id, such as <c>shardId-000000000000</c>.</param>
/// <param name="GroupId">The shard's Raft group.</param>
internal sealed record ShardIdentity(string StreamName, long StreamId, string ShardId, long GroupId)
{
    /// <summary>The group's name in DescribeCluster: <c>stream/shard</c>.</summary>
    public override string ToString() => $"{StreamName}/{ShardId}";
}
