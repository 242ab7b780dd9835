using Streams.Client.Routing;
using Streams.Server.Metadata;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>The API's view of the metadata's shards.</summary>
internal static class ShardDescriptions
{
    /// <summary>A shard as ListShards describes it.</summary>
    public static Shard ToShard(ShardRecord shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var result = new Shard
        {
            ShardId = shard.ShardId,
            ParentShardId = shard.ParentShardId ?? "",
            AdjacentParentShardId = shard.AdjacentParentShardId ?? "",
            HashKeyRange = ToRange(shard.HashKeyRange),
            SequenceNumberRange = new SequenceNumberRange
            {
                StartingSequenceNumber = shard.StartingSequenceNumber.ToString(),
                EndingSequenceNumber = shard.EndingSequenceNumber?.ToString() ?? "",
            },
            Leader = shard.Leader ?? "",
        };
        result.Replicas.AddRange(shard.Replicas);
        result.ParentShardIds.AddRange(shard.ParentShardIds);
        return result;
    }

    /// <summary>The children of a closed shard, for GetRecords and SubscribeToShard at its end.</summary>
    public static IEnumerable<ChildShard> ChildrenOf(StreamRecord stream, string shardId)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var child in stream.ChildrenOf(shardId))
        {
            var result = new ChildShard { ShardId = child.ShardId, HashKeyRange = ToRange(child.HashKeyRange) };
            result.ParentShards.AddRange(child.ParentShardIds);
            yield return result;
        }
    }

    private static V1.HashKeyRange ToRange(Routing.HashKeyRange range) => new()
    {
        StartingHashKey = HashKey.Format(range.Start),
        EndingHashKey = HashKey.Format(range.End),
    };
}
