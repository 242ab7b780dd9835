using System.Collections.Immutable;
using Google.Protobuf;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Metadata.Firehose;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.V1;
using HashKeyRange = Streams.Server.Routing.HashKeyRange;

namespace Streams.Server.Metadata;

/// <summary>
/// <see cref="ClusterMetadata"/> to and from its stored form, <see cref="ControllerSnapshot"/>. Lists
/// are written in a fixed order (nodes by id, streams by name, shards by number, consumer groups by
/// name, their members and shards by id), so equal states encode to equal bytes on every node.
/// </summary>
public static class ControllerSnapshotFormat
{
    /// <summary>The format this code writes and reads.</summary>
    public const uint FormatVersion = 1;

    /// <summary>The snapshot bytes of <paramref name="metadata"/>.</summary>
    /// <param name="metadata">The state.</param>
    public static byte[] Encode(ClusterMetadata metadata) => ToMessage(metadata).ToByteArray();

    /// <summary>
    /// Reads snapshot bytes; throws an <see cref="InvalidDataException"/> when they are not a valid
    /// snapshot. No bytes at all read as <see cref="ClusterMetadata.Empty"/> (a group's empty start).
    /// </summary>
    /// <param name="snapshot">The bytes.</param>
    public static ClusterMetadata Decode(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.IsEmpty)
        {
            return ClusterMetadata.Empty;
        }

        ControllerSnapshot message;
        try
        {
            message = ControllerSnapshot.Parser.ParseFrom(snapshot);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException("The controller snapshot is not a ControllerSnapshot message: " + ex.Message, ex);
        }

        return FromMessage(message);
    }

    /// <summary>The stored form of <paramref name="metadata"/>.</summary>
    /// <param name="metadata">The state.</param>
    public static ControllerSnapshot ToMessage(ClusterMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var message = new ControllerSnapshot
        {
            FormatVersion = FormatVersion,
            Bootstrapped = metadata.IsBootstrapped,
            BootstrappedAtUnixMs = metadata.BootstrappedAt.ToUnixTimeMilliseconds(),
            IteratorSecret = ByteString.CopyFrom(metadata.IteratorSecret.AsSpan()),
            Limits = metadata.Limits.ToSpec(),
            NextStreamId = metadata.NextStreamId,
            NextGroupId = metadata.NextGroupId,
            NextNodeRaftId = metadata.NextNodeRaftId,
        };
        message.Nodes.AddRange(metadata.Nodes.Values.Select(n => new StoredNode { NodeId = n.NodeId, Address = n.Address, Role = ToStored(n.Role), RaftId = n.RaftId }));
        message.Streams.AddRange(metadata.Streams.Values.Select(ToStored));
        message.DeliveryStreams.AddRange(metadata.DeliveryStreams.Values.Select(ToStored));
        if (metadata.PendingMove is { } move)
        {
            message.PendingMove = new StoredReplicaMove { GroupId = move.GroupId, FromNode = move.FromNode, ToNode = move.ToNode };
        }

        return message;
    }

    /// <summary>Reads the stored form; throws an <see cref="InvalidDataException"/> when it is inconsistent.</summary>
    /// <param name="message">The stored form.</param>
    public static ClusterMetadata FromMessage(ControllerSnapshot message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.FormatVersion != FormatVersion)
        {
            throw new InvalidDataException($"The controller snapshot has format version {message.FormatVersion}; this node reads version {FormatVersion}. Upgrade the node.");
        }

        try
        {
            var nodes = ImmutableSortedDictionary.CreateBuilder<string, NodeRecord>(StringComparer.Ordinal);
            foreach (var n in message.Nodes)
            {
                nodes.Add(n.NodeId, new NodeRecord(n.NodeId, n.Address, FromStored(n.Role), n.RaftId));
            }

            var streams = ImmutableSortedDictionary.CreateBuilder<string, StreamRecord>(StringComparer.Ordinal);
            var byGroup = ImmutableDictionary.CreateBuilder<long, ShardAddress>();
            foreach (var s in message.Streams)
            {
                var stream = FromStored(s);
                streams.Add(stream.Name, stream);
                byGroup.AddRange(stream.Shards.Select(shard => KeyValuePair.Create(shard.GroupId, new ShardAddress(stream.Name, shard.ShardNumber))));
            }

            var move = message.PendingMove is { } m ? new ReplicaMove(m.GroupId, m.FromNode, m.ToNode) : null;
            var deliveryStreams = ImmutableSortedDictionary.CreateBuilder<string, DeliveryStreamRecord>(StringComparer.Ordinal);
            foreach (var d in message.DeliveryStreams)
            {
                deliveryStreams.Add(d.Name, FromStored(d));
            }

            return new ClusterMetadata
            {
                IsBootstrapped = message.Bootstrapped,
                BootstrappedAt = DateTimeOffset.FromUnixTimeMilliseconds(message.BootstrappedAtUnixMs),
                IteratorSecret = [.. message.IteratorSecret.Span],
                Limits = message.Limits is null ? MetadataLimits.Default : MetadataLimits.FromSpec(message.Limits),
                NextStreamId = message.NextStreamId,
                NextGroupId = message.NextGroupId,
                NextNodeRaftId = message.NextNodeRaftId,
                Nodes = nodes.ToImmutable(),
                Streams = streams.ToImmutable(),
                ShardsByGroup = byGroup.ToImmutable(),
                PendingMove = move,
                DeliveryStreams = deliveryStreams.ToImmutable(),
            };
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException("The controller snapshot is inconsistent: " + ex.Message, ex);
        }
    }

    private static StoredDeliveryStream ToStored(DeliveryStreamRecord record)
    {
        var stored = new StoredDeliveryStream
        {
            Name = record.Name,
            SourceStreamName = record.SourceStreamName,
            Destination = record.Destination,
            InitialPosition = (int)record.InitialPosition,
            VersionId = record.VersionId,
            CreatedAtUnixMs = record.CreatedAt.ToUnixTimeMilliseconds(),
            UpdatedAtUnixMs = record.UpdatedAt.ToUnixTimeMilliseconds(),
        };
        stored.Shards.AddRange(record.Shards.Select(pair => new StoredDeliveryShard
        {
            ShardId = pair.Key,
            Worker = pair.Value.Worker,
            LagMillis = pair.Value.LagMillis,
            LagRecords = pair.Value.LagRecords,
            ObjectsDelivered = pair.Value.ObjectsDelivered,
            RecordsDelivered = pair.Value.RecordsDelivered,
            BytesDelivered = pair.Value.BytesDelivered,
            RecordsFailed = pair.Value.RecordsFailed,
            UploadFailures = pair.Value.UploadFailures,
            LastError = pair.Value.LastError,
            LastErrorUnixMs = pair.Value.LastErrorAt?.ToUnixTimeMilliseconds() ?? 0,
            ReportedAtUnixMs = pair.Value.ReportedAt?.ToUnixTimeMilliseconds() ?? 0,
        }));
        return stored;
    }

    private static DeliveryStreamRecord FromStored(StoredDeliveryStream stored)
    {
        var shards = ImmutableSortedDictionary.CreateBuilder<string, DeliveryShardProgress>(StringComparer.Ordinal);
        foreach (var s in stored.Shards)
        {
            shards.Add(s.ShardId, new DeliveryShardProgress
            {
                Worker = s.Worker,
                LagMillis = s.LagMillis,
                LagRecords = s.LagRecords,
                ObjectsDelivered = s.ObjectsDelivered,
                RecordsDelivered = s.RecordsDelivered,
                BytesDelivered = s.BytesDelivered,
                RecordsFailed = s.RecordsFailed,
                UploadFailures = s.UploadFailures,
                LastError = s.LastError,
                LastErrorAt = s.LastErrorUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(s.LastErrorUnixMs),
                ReportedAt = s.ReportedAtUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(s.ReportedAtUnixMs),
            });
        }

        return new DeliveryStreamRecord
        {
            Name = stored.Name,
            SourceStreamName = stored.SourceStreamName,
            Destination = stored.Destination,
            InitialPosition = stored.InitialPosition is (int)InitialPosition.TrimHorizon or (int)InitialPosition.Latest
                ? (InitialPosition)stored.InitialPosition
                : throw new ArgumentException($"delivery stream '{stored.Name}' has initial position {stored.InitialPosition}."),
            VersionId = stored.VersionId,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.CreatedAtUnixMs),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.UpdatedAtUnixMs),
            Shards = shards.ToImmutable(),
        };
    }

    private static StoredStream ToStored(StreamRecord stream)
    {
        var stored = new StoredStream
        {
            Name = stream.Name,
            StreamId = stream.StreamId,
            Status = ToStored(stream.Status),
            RetentionHours = stream.RetentionHours,
            ReplicationFactor = stream.ReplicationFactor,
            CreatedAtUnixMs = stream.CreatedAt.ToUnixTimeMilliseconds(),
        };
        stored.Shards.AddRange(stream.Shards.Select(ToStored));
        stored.ConsumerGroups.AddRange(stream.ConsumerGroups.Values.Select(ToStored));
        return stored;
    }

    private static StoredConsumerGroup ToStored(ConsumerGroupRecord group)
    {
        var stored = new StoredConsumerGroup
        {
            Name = group.Name,
            InitialPosition = (int)group.InitialPosition,
            CreatedAtUnixMs = group.CreatedAt.ToUnixTimeMilliseconds(),
            ShardCountAtCreation = group.ShardCountAtCreation,
            LastSeenUnixMs = group.LastSeenAt.ToUnixTimeMilliseconds(),
            Generation = group.Generation,
        };
        stored.Members.AddRange(group.Members.Values.Select(m => new StoredGroupMember { MemberId = m.MemberId, ExpiresAtUnixMs = m.ExpiresAt.ToUnixTimeMilliseconds(), SessionTimeoutMs = m.SessionTimeoutMs }));
        stored.Shards.AddRange(group.Shards.Select(pair => new StoredGroupShard
        {
            ShardId = pair.Key,
            Checkpoint = pair.Value.Checkpoint?.ToString() ?? "",
            ShardEnd = pair.Value.ShardEnd,
            Owner = pair.Value.Owner ?? "",
            Epoch = pair.Value.Epoch,
            Pending = pair.Value.Pending?.ToString() ?? "",
        }));
        return stored;
    }

    private static ConsumerGroupRecord FromStored(StoredConsumerGroup stored)
    {
        var members = ImmutableSortedDictionary.CreateBuilder<string, GroupMemberRecord>(StringComparer.Ordinal);
        foreach (var m in stored.Members)
        {
            members.Add(m.MemberId, new GroupMemberRecord(m.MemberId, DateTimeOffset.FromUnixTimeMilliseconds(m.ExpiresAtUnixMs), m.SessionTimeoutMs));
        }

        var shards = ImmutableSortedDictionary.CreateBuilder<string, GroupShard>(StringComparer.Ordinal);
        foreach (var s in stored.Shards)
        {
            shards.Add(s.ShardId, new GroupShard
            {
                Checkpoint = s.Checkpoint.Length == 0 ? null : ParseSequence(s.Checkpoint),
                ShardEnd = s.ShardEnd,
                Owner = s.Owner.Length == 0 ? null : s.Owner,
                Epoch = s.Epoch,
                Pending = s.Pending.Length == 0 ? null : ParseSequence(s.Pending),
            });
        }

        return new ConsumerGroupRecord
        {
            Name = stored.Name,
            InitialPosition = stored.InitialPosition is (int)InitialPosition.TrimHorizon or (int)InitialPosition.Latest
                ? (InitialPosition)stored.InitialPosition
                : throw new ArgumentException($"consumer group '{stored.Name}' has initial position {stored.InitialPosition}."),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.CreatedAtUnixMs),
            ShardCountAtCreation = stored.ShardCountAtCreation,
            LastSeenAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.LastSeenUnixMs),
            Generation = stored.Generation,
            Members = members.ToImmutable(),
            Shards = shards.ToImmutable(),
        };
    }

    private static StoredShard ToStored(ShardRecord shard)
    {
        var stored = new StoredShard
        {
            ShardNumber = shard.ShardNumber,
            GroupId = shard.GroupId,
            StartingHashKey = ToStored(shard.HashKeyRange.Start),
            EndingHashKey = ToStored(shard.HashKeyRange.End),
            Open = shard.IsOpen,
            CreatedAtUnixMs = shard.CreatedAt.ToUnixTimeMilliseconds(),
            ClosedAtUnixMs = shard.ClosedAt?.ToUnixTimeMilliseconds() ?? 0,
            StartingSequenceNumber = shard.StartingSequenceNumber.ToString(),
            EndingSequenceNumber = shard.EndingSequenceNumber?.ToString() ?? "",
            Leader = shard.Leader ?? "",
            LeaderTerm = shard.LeaderTerm,
        };
        stored.ParentShardIds.AddRange(shard.ParentShardIds);
        stored.Replicas.AddRange(shard.Replicas);
        return stored;
    }

    private static StreamRecord FromStored(StoredStream stored)
    {
        var shards = ImmutableArray.CreateBuilder<ShardRecord>(stored.Shards.Count);
        foreach (var s in stored.Shards)
        {
            if (s.ShardNumber != shards.Count)
            {
                throw new ArgumentException($"stream '{stored.Name}' lists shard number {s.ShardNumber} at position {shards.Count}.");
            }

            if (s.Replicas.Count == 0)
            {
                throw new ArgumentException($"shard {s.ShardNumber} of stream '{stored.Name}' has no replica.");
            }

            shards.Add(new ShardRecord
            {
                ShardNumber = s.ShardNumber,
                ShardId = ShardIds.Format(s.ShardNumber),
                GroupId = s.GroupId,
                HashKeyRange = new HashKeyRange(FromStored(s.StartingHashKey), FromStored(s.EndingHashKey)),
                ParentShardIds = [.. s.ParentShardIds],
                IsOpen = s.Open,
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(s.CreatedAtUnixMs),
                ClosedAt = s.Open ? null : DateTimeOffset.FromUnixTimeMilliseconds(s.ClosedAtUnixMs),
                StartingSequenceNumber = ParseSequence(s.StartingSequenceNumber),
                EndingSequenceNumber = s.EndingSequenceNumber.Length == 0 ? null : ParseSequence(s.EndingSequenceNumber),
                Replicas = [.. s.Replicas],
                Leader = s.Leader.Length == 0 ? null : s.Leader,
                LeaderTerm = s.LeaderTerm,
            });
        }

        var groups = ImmutableSortedDictionary.CreateBuilder<string, ConsumerGroupRecord>(StringComparer.Ordinal);
        foreach (var g in stored.ConsumerGroups)
        {
            groups.Add(g.Name, FromStored(g));
        }

        return new StreamRecord
        {
            Name = stored.Name,
            StreamId = stored.StreamId,
            Status = FromStored(stored.Status),
            RetentionHours = stored.RetentionHours,
            ReplicationFactor = stored.ReplicationFactor,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.CreatedAtUnixMs),
            Shards = shards.MoveToImmutable(),
            ConsumerGroups = groups.ToImmutable(),
        };
    }

    private static SequenceNumber ParseSequence(string text) =>
        SequenceNumber.TryParse(text, out var value) ? value : throw new ArgumentException($"'{text}' is not a sequence number.");

    private static StoredHashKey ToStored(UInt128 key) => new() { High = (ulong)(key >> 64), Low = (ulong)key };

    private static UInt128 FromStored(StoredHashKey? key) =>
        key is null ? throw new ArgumentException("a shard lacks a hash key.") : new UInt128(key.High, key.Low);

    private static StoredNodeRole ToStored(MemberRole role) => role switch
    {
        MemberRole.Voter => StoredNodeRole.Voter,
        MemberRole.Learner => StoredNodeRole.Learner,
        MemberRole.Leaving => StoredNodeRole.Leaving,
        _ => StoredNodeRole.Unspecified,
    };

    private static MemberRole FromStored(StoredNodeRole role) => role switch
    {
        StoredNodeRole.Voter => MemberRole.Voter,
        StoredNodeRole.Learner => MemberRole.Learner,
        StoredNodeRole.Leaving => MemberRole.Leaving,
        _ => throw new ArgumentException($"node role {role} is not known."),
    };

    private static StoredStreamStatus ToStored(StreamStatus status) => status switch
    {
        StreamStatus.Creating => StoredStreamStatus.Creating,
        StreamStatus.Deleting => StoredStreamStatus.Deleting,
        StreamStatus.Active => StoredStreamStatus.Active,
        StreamStatus.Updating => StoredStreamStatus.Updating,
        _ => StoredStreamStatus.Unspecified,
    };

    private static StreamStatus FromStored(StoredStreamStatus status) => status switch
    {
        StoredStreamStatus.Creating => StreamStatus.Creating,
        StoredStreamStatus.Deleting => StreamStatus.Deleting,
        StoredStreamStatus.Active => StreamStatus.Active,
        StoredStreamStatus.Updating => StreamStatus.Updating,
        _ => throw new ArgumentException($"stream status {status} is not known."),
    };
}
