using Google.Protobuf.WellKnownTypes;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Consumers;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>The API's view of a consumer group: a member's leases and the group's checkpoints.</summary>
internal static class ConsumerResponses
{
    /// <summary>The shards leased to <paramref name="memberId"/>, in shard id order, with where to read each from.</summary>
    public static IEnumerable<ShardLease> LeasesOf(StreamRecord stream, ConsumerGroupRecord group, string memberId)
    {
        foreach (var (shardId, state) in group.LeasesOf(memberId))
        {
            if (!stream.TryGetShard(shardId, out var shard))
            {
                continue;
            }

            var lease = new ShardLease
            {
                ShardId = shardId,
                Epoch = state.Epoch,
                Checkpoint = state.Checkpoint?.ToString() ?? "",
                StartingPosition = StartOf(group, shard, state),
                PendingCheckpoint = state.Pending?.ToString() ?? "",
            };
            lease.ParentShardIds.AddRange(shard.ParentShardIds);
            yield return lease;
        }
    }

    /// <summary>
    /// Where a member starts on a leased shard: after the checkpoint; else at the beginning of a
    /// shard made after the group (a child, whose parents the group read to their end); else at
    /// the group's initial position.
    /// </summary>
    public static StartingPosition StartOf(ConsumerGroupRecord group, ShardRecord shard, GroupShard state)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(state);
        if (state.Checkpoint is { } checkpoint)
        {
            return new StartingPosition { Type = ShardIteratorType.AfterSequenceNumber, SequenceNumber = checkpoint.ToString() };
        }

        // A shard that existed when the group was created and had parents had them closed by then,
        // and a LATEST group counts those as read: such a shard starts at LATEST like its open peers.
        var latest = group.InitialPosition == InitialPosition.Latest && shard.ShardNumber < group.ShardCountAtCreation;
        return new StartingPosition { Type = latest ? ShardIteratorType.Latest : ShardIteratorType.TrimHorizon };
    }

    /// <summary>GetCheckpoints: every shard of the stream and the members alive at <paramref name="now"/>.</summary>
    public static GetCheckpointsResponse Checkpoints(StreamRecord stream, ConsumerGroupRecord group, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(group);

        // The state keeps a member until the group's next command; here one whose session ran out is gone already.
        var live = group.Members.Values.Where(m => m.ExpiresAt >= now).ToDictionary(m => m.MemberId, StringComparer.Ordinal);
        var response = new GetCheckpointsResponse { Generation = group.Generation, InitialPosition = group.InitialPosition };
        foreach (var shard in stream.Shards)
        {
            var state = group.ShardState(shard.ShardId);
            var entry = new ShardCheckpoint
            {
                ShardId = shard.ShardId,
                SequenceNumber = state.Checkpoint?.ToString() ?? "",
                ShardEnd = state.ShardEnd,
                LeaseEpoch = state.Epoch,
                PendingSequenceNumber = state.Pending?.ToString() ?? "",
            };
            if (state.Owner is { } owner && live.TryGetValue(owner, out var holder))
            {
                entry.Owner = owner;
                entry.LeaseExpiresAt = Timestamp.FromDateTimeOffset(holder.ExpiresAt);
            }

            response.Checkpoints.Add(entry);
        }

        foreach (var member in live.Values.OrderBy(m => m.MemberId, StringComparer.Ordinal))
        {
            response.Members.Add(new GroupMember
            {
                MemberId = member.MemberId,
                ExpiresAt = Timestamp.FromDateTimeOffset(member.ExpiresAt),
                LeaseCount = group.LeasesOf(member.MemberId).Count(),
            });
        }

        return response;
    }
}
