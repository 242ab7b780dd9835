using System.Collections.Immutable;
using Streams.Server.Metadata.V1;
using Streams.Client.Routing;
using Streams.V1;
using HashKeyRange = Streams.Server.Routing.HashKeyRange;

namespace Streams.Server.Metadata;

// Resharding: SplitShard, MergeShards, UpdateShardCount. Each closes open shards and opens children
// that cover exactly the closed shards' ranges, so the open shards keep covering every hash key.
public sealed partial class ControllerState
{
    private static (ClusterMetadata, ApplyResult) SplitShard(ClusterMetadata metadata, SplitShardCommand command)
    {
        if ((FindStream(metadata, command.StreamName, out var stream) ?? RequireActive(stream, "SplitShard")) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (FindShard(stream, command.ShardToSplit, "shard_to_split", out var shard) is { } shardError)
        {
            return Refuse(metadata, shardError);
        }

        if (!shard.IsOpen)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Shard {shard.ShardId} of stream '{stream.Name}' is closed; split an open shard (ListShards with AT_LATEST lists them)."));
        }

        if (!HashKey.TryParse(command.NewStartingHashKey, out var key))
        {
            return Refuse(metadata, MetadataError.InvalidArgument(HashKey.ParseError("new_starting_hash_key", command.NewStartingHashKey)));
        }

        var range = shard.HashKeyRange;
        if (key <= range.Start || key > range.End)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"new_starting_hash_key must be more than {HashKey.Format(range.Start)} and at most {HashKey.Format(range.End)}, inside shard {shard.ShardId}'s hash-key range {range}; it is {HashKey.Format(key)}."));
        }

        if (stream.OpenShardCount + 1 > metadata.Limits.MaxShardsPerStream)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"Stream '{stream.Name}' has {stream.OpenShardCount} open shards, the most a stream may have; merge shards first."));
        }

        ImmutableArray<string> parents = [shard.ShardId];
        return Reshard(metadata, stream, [shard], [(new HashKeyRange(range.Start, key - 1), parents), (new HashKeyRange(key, range.End), parents)], command.TimestampUnixMs);
    }

    private static (ClusterMetadata, ApplyResult) MergeShards(ClusterMetadata metadata, MergeShardsCommand command)
    {
        if ((FindStream(metadata, command.StreamName, out var stream) ?? RequireActive(stream, "MergeShards")) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (FindShard(stream, command.ShardToMerge, "shard_to_merge", out var shard) is { } shardError)
        {
            return Refuse(metadata, shardError);
        }

        if (FindShard(stream, command.AdjacentShardToMerge, "adjacent_shard_to_merge", out var adjacent) is { } adjacentError)
        {
            return Refuse(metadata, adjacentError);
        }

        if (shard.ShardNumber == adjacent.ShardNumber)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"shard_to_merge and adjacent_shard_to_merge are both {shard.ShardId}; name two different, adjacent shards."));
        }

        foreach (var s in (ShardRecord[])[shard, adjacent])
        {
            if (!s.IsOpen)
            {
                return Refuse(metadata, MetadataError.InvalidArgument($"Shard {s.ShardId} of stream '{stream.Name}' is closed; merge two open shards (ListShards with AT_LATEST lists them)."));
            }
        }

        var (low, high) = shard.HashKeyRange.Start < adjacent.HashKeyRange.Start ? (shard, adjacent) : (adjacent, shard);
        if (!low.HashKeyRange.IsFollowedBy(high.HashKeyRange))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Shards {shard.ShardId} {shard.HashKeyRange} and {adjacent.ShardId} {adjacent.HashKeyRange} are not adjacent: one's range must end right before the other's starts."));
        }

        var merged = new HashKeyRange(low.HashKeyRange.Start, high.HashKeyRange.End);
        return Reshard(metadata, stream, [shard, adjacent], [(merged, [shard.ShardId, adjacent.ShardId])], command.TimestampUnixMs);
    }

    private static (ClusterMetadata, ApplyResult) UpdateShardCount(ClusterMetadata metadata, UpdateShardCountCommand command)
    {
        if ((FindStream(metadata, command.StreamName, out var stream) ?? RequireActive(stream, "UpdateShardCount")) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (command.ScalingType is not ((int)ScalingType.Unspecified or (int)ScalingType.UniformScaling))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"scaling_type {command.ScalingType} is not known; use UNIFORM_SCALING."));
        }

        var target = command.TargetShardCount;
        var open = stream.OpenShardCount;
        if (target < 1)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"target_shard_count must be at least 1; it is {target}."));
        }

        if (target > metadata.Limits.MaxShardsPerStream)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"target_shard_count {target} is above the limit of {metadata.Limits.MaxShardsPerStream} shards per stream; ask for at most {metadata.Limits.MaxShardsPerStream}."));
        }

        if ((long)target > 2L * open)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"target_shard_count {target} is more than double the {open} open shards of stream '{stream.Name}'; scale up to at most {2L * open} at a time."));
        }

        if (2L * target < open)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"target_shard_count {target} is less than half the {open} open shards of stream '{stream.Name}'; scale down to at least {(open + 1) / 2} at a time."));
        }

        var ranges = HashKeyRange.Even(target);
        var current = stream.OpenShards;
        if (current.Count == target && current.Select(s => s.HashKeyRange).SequenceEqual(ranges))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Stream '{stream.Name}' already has {target} evenly split open shards; ask for another target_shard_count."));
        }

        // Each child descends from every open shard its range overlaps (in hash-key order).
        var children = ranges
            .Select(r => (r, current.Where(s => s.HashKeyRange.Overlaps(r)).Select(s => s.ShardId).ToImmutableArray()))
            .ToList();
        var (next, result) = Reshard(metadata, stream, current, children, command.TimestampUnixMs);
        return (next, result with { OpenShardCountBefore = open });
    }

    // Closes `closing`, opens `children` (ranges with their parents) placed evenly, and marks the
    // stream UPDATING until the new groups have leaders and the closed ones have sealed.
    private static (ClusterMetadata, ApplyResult) Reshard(ClusterMetadata metadata, StreamRecord stream, IReadOnlyList<ShardRecord> closing, List<(HashKeyRange Range, ImmutableArray<string> Parents)> children, long timestampUnixMs)
    {
        var closingGroups = closing.Select(s => s.GroupId).ToHashSet();
        if (ReplicaPlacement.Place(metadata, children.Count, stream.ReplicationFactor, closingGroups) is not { } placement)
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{stream.Name}' keeps {stream.ReplicationFactor} replicas per shard but only {metadata.ReplicaNodes.Count()} nodes take replicas; add or promote nodes, then retry."));
        }

        var at = ToTime(timestampUnixMs);
        var shards = stream.Shards.ToBuilder();
        foreach (var shard in closing)
        {
            shards[shard.ShardNumber] = shard with { IsOpen = false, ClosedAt = at };
        }

        var created = new List<ShardRecord>(children.Count);
        for (var i = 0; i < children.Count; i++)
        {
            var child = NewShard(stream.Shards.Length + i, metadata.NextGroupId + i, children[i].Range, children[i].Parents, placement[i], at);
            created.Add(child);
            shards.Add(child);
        }

        var updated = stream with { Status = StreamStatus.Updating, Shards = shards.ToImmutable() };
        var next = WithStream(metadata, updated) with
        {
            ShardsByGroup = metadata.ShardsByGroup.AddRange(created.Select(s => KeyValuePair.Create(s.GroupId, new ShardAddress(stream.Name, s.ShardNumber)))),
            NextGroupId = metadata.NextGroupId + children.Count,
        };
        return (next, ApplyResult.Done with
        {
            CreatedShardIds = [.. created.Select(s => s.ShardId)],
            CreatedGroupIds = [.. created.Select(s => s.GroupId)],
            ClosedShardIds = [.. closing.Select(s => s.ShardId).Order(StringComparer.Ordinal)],
        });
    }
}
