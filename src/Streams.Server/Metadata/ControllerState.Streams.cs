using System.Collections.Immutable;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.V1;
using HashKeyRange = Streams.Server.Routing.HashKeyRange;

namespace Streams.Server.Metadata;

// Streams: create, delete, retention, and the reports of their shard groups.
public sealed partial class ControllerState
{
    /// <summary>The first Raft index of a new shard group: its log, and so its sequence numbers, start there.</summary>
    public const long FirstShardIndex = 1;

    private static (ClusterMetadata, ApplyResult) CreateStream(ClusterMetadata metadata, CreateStreamCommand command)
    {
        var limits = metadata.Limits;
        if (StreamNames.Validate(command.StreamName) is { } nameProblem)
        {
            return Refuse(metadata, MetadataError.InvalidArgument(nameProblem));
        }

        if (metadata.Streams.TryGetValue(command.StreamName, out var existing))
        {
            return Refuse(metadata, MetadataError.InUse(existing.Status == StreamStatus.Deleting
                ? $"Stream '{existing.Name}' is being deleted; wait until ListStreams no longer shows it, then create it again."
                : $"Stream '{existing.Name}' already exists; choose another name, or delete it first."));
        }

        if (metadata.Streams.Count >= limits.MaxStreams)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"The cluster holds {metadata.Streams.Count} streams, the most it allows; delete a stream first."));
        }

        if (command.ShardCount < 1)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"shard_count must be at least 1; it is {command.ShardCount}."));
        }

        if (command.ShardCount > limits.MaxShardsPerStream)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"shard_count {command.ShardCount} is above the limit of {limits.MaxShardsPerStream} shards per stream; ask for at most {limits.MaxShardsPerStream}."));
        }

        var retention = command.RetentionPeriodHours == 0 ? limits.DefaultRetentionHours : command.RetentionPeriodHours;
        if (retention < limits.MinRetentionHours || retention > limits.MaxRetentionHours)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"retention_period_hours must be between {limits.MinRetentionHours} and {limits.MaxRetentionHours} (0 means {limits.DefaultRetentionHours}); it is {command.RetentionPeriodHours}."));
        }

        var nodes = metadata.ReplicaNodes.Count();
        if (nodes == 0)
        {
            return Refuse(metadata, MetadataError.InUse("No node takes replicas (every member is leaving or still a learner); add or promote a node first."));
        }

        var defaultFactor = Math.Min(limits.DefaultReplicationFactor, nodes);
        var factor = command.ReplicationFactor == 0 ? defaultFactor : command.ReplicationFactor;
        var maxFactor = Math.Min(limits.MaxReplicationFactor, nodes);
        if (factor < 1 || factor > maxFactor)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"replication_factor must be between 1 and {maxFactor} ({nodes} nodes take replicas, and a shard has at most {limits.MaxReplicationFactor}; 0 means {defaultFactor}); it is {command.ReplicationFactor}."));
        }

        var placement = ReplicaPlacement.Place(metadata, command.ShardCount, factor)!.Value;
        var at = ToTime(command.TimestampUnixMs);
        var ranges = HashKeyRange.Even(command.ShardCount);
        var shards = ImmutableArray.CreateBuilder<ShardRecord>(command.ShardCount);
        for (var i = 0; i < command.ShardCount; i++)
        {
            shards.Add(NewShard(i, metadata.NextGroupId + i, ranges[i], [], placement[i], at));
        }

        var stream = new StreamRecord
        {
            Name = command.StreamName,
            StreamId = metadata.NextStreamId,
            Status = StreamStatus.Creating,
            RetentionHours = retention,
            ReplicationFactor = factor,
            CreatedAt = at,
            Shards = shards.MoveToImmutable(),
        };
        var next = metadata with
        {
            Streams = metadata.Streams.Add(stream.Name, stream),
            ShardsByGroup = metadata.ShardsByGroup.AddRange(stream.Shards.Select(s => KeyValuePair.Create(s.GroupId, new ShardAddress(stream.Name, s.ShardNumber)))),
            NextStreamId = metadata.NextStreamId + 1,
            NextGroupId = metadata.NextGroupId + command.ShardCount,
        };
        return (next, ApplyResult.Done with
        {
            CreatedShardIds = [.. stream.Shards.Select(s => s.ShardId)],
            CreatedGroupIds = [.. stream.Shards.Select(s => s.GroupId)],
        });
    }

    private static (ClusterMetadata, ApplyResult) DeleteStream(ClusterMetadata metadata, DeleteStreamCommand command)
    {
        if (FindStream(metadata, command.StreamName, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        return stream.Status == StreamStatus.Deleting
            ? Unchanged(metadata)
            : (WithStream(metadata, stream with { Status = StreamStatus.Deleting }), ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) StreamDeleted(ClusterMetadata metadata, StreamDeletedCommand command)
    {
        var stream = metadata.Streams.Values.FirstOrDefault(s => s.StreamId == command.StreamId);
        if (stream is null)
        {
            return Unchanged(metadata);
        }

        if (stream.Status != StreamStatus.Deleting)
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{stream.Name}' (id {stream.StreamId}) is {StatusName(stream.Status)}, not DELETING; DeleteStream marks it first."));
        }

        var groups = stream.Shards.Select(s => s.GroupId).ToHashSet();
        return (metadata with
        {
            Streams = metadata.Streams.Remove(stream.Name),
            ShardsByGroup = metadata.ShardsByGroup.RemoveRange(groups),
            PendingMove = metadata.PendingMove is { } move && groups.Contains(move.GroupId) ? null : metadata.PendingMove,
        }, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) ChangeRetention(ClusterMetadata metadata, RetentionCommand command, bool increase)
    {
        if (FindStream(metadata, command.StreamName, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (stream.Status == StreamStatus.Deleting)
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{stream.Name}' is being deleted; its retention no longer changes."));
        }

        var hours = command.RetentionPeriodHours;
        var limits = metadata.Limits;
        if (increase && hours <= stream.RetentionHours)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"retention_period_hours ({hours}) must be more than the stream's current {stream.RetentionHours} hours; DecreaseStreamRetentionPeriod shortens it."));
        }

        if (!increase && hours >= stream.RetentionHours)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"retention_period_hours ({hours}) must be less than the stream's current {stream.RetentionHours} hours; IncreaseStreamRetentionPeriod lengthens it."));
        }

        if (hours < limits.MinRetentionHours || hours > limits.MaxRetentionHours)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"retention_period_hours must be between {limits.MinRetentionHours} and {limits.MaxRetentionHours}; it is {hours}."));
        }

        return (WithStream(metadata, stream with { RetentionHours = hours }), ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) ReportShardLeader(ClusterMetadata metadata, ReportShardLeaderCommand command)
    {
        // Reports race with deletions and later elections: an unknown group or node, or an older
        // term, is stale news, not an error.
        if (!metadata.TryGetShard(command.GroupId, out var stream, out var shard) || !metadata.Nodes.ContainsKey(command.NodeId))
        {
            return Unchanged(metadata);
        }

        if (command.Term < shard.LeaderTerm || (command.Term == shard.LeaderTerm && shard.Leader is not null))
        {
            return Unchanged(metadata);
        }

        var updated = shard with { Leader = command.NodeId, LeaderTerm = command.Term };
        return (WithStream(metadata, Settle(stream with { Shards = stream.Shards.SetItem(shard.ShardNumber, updated) })), ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) ReportShardSealed(ClusterMetadata metadata, ReportShardSealedCommand command)
    {
        if (!metadata.TryGetShard(command.GroupId, out var stream, out var shard))
        {
            return Unchanged(metadata);
        }

        if (!SequenceNumber.TryParse(command.EndingSequenceNumber, out var ending))
        {
            return Refuse(metadata, MetadataError.InvalidArgument(SequenceNumber.ParseError("ending_sequence_number", command.EndingSequenceNumber)));
        }

        if (shard.IsOpen)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Shard {stream.Name}/{shard.ShardId} (group {shard.GroupId}) is open; only a closed shard's group seals."));
        }

        if (shard.EndingSequenceNumber is not null)
        {
            return Unchanged(metadata);
        }

        var updated = shard with { EndingSequenceNumber = ending };
        return (WithStream(metadata, Settle(stream with { Shards = stream.Shards.SetItem(shard.ShardNumber, updated) })), ApplyResult.Done);
    }

    // A CREATING or UPDATING stream becomes ACTIVE once every open shard's group has a leader and
    // every closed shard's group has sealed: from then on resharding again is safe.
    private static StreamRecord Settle(StreamRecord stream)
    {
        if (stream.Status is not (StreamStatus.Creating or StreamStatus.Updating))
        {
            return stream;
        }

        var settled = stream.Shards.All(s => s.IsOpen ? s.Leader is not null : s.EndingSequenceNumber is not null);
        return settled ? stream with { Status = StreamStatus.Active } : stream;
    }

    private static ShardRecord NewShard(int number, long groupId, HashKeyRange range, ImmutableArray<string> parents, ImmutableArray<string> replicas, DateTimeOffset at) => new()
    {
        ShardNumber = number,
        ShardId = ShardIds.Format(number),
        GroupId = groupId,
        HashKeyRange = range,
        ParentShardIds = parents,
        IsOpen = true,
        CreatedAt = at,
        StartingSequenceNumber = SequenceNumber.FirstAt(FirstShardIndex),
        Replicas = replicas,
    };
}
