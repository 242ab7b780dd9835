using Streams.Server.Metadata.Consumers;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Metadata;

// Consumer groups: members, shard leases and checkpoints. Every command first forgets the members
// whose session ran out by the command's time, then hands the leases out again, so leases follow
// the members without any timer in the state machine.
public sealed partial class ControllerState
{
    private static (ClusterMetadata, ApplyResult) JoinGroup(ClusterMetadata metadata, JoinGroupCommand command)
    {
        var problem = ConsumerGroupRules.ValidateGroupName(command.GroupName)
            ?? ConsumerGroupRules.ValidateMemberId(command.MemberId)
            ?? ConsumerGroupRules.ValidateSessionTimeout(command.SessionTimeoutMs)
            ?? ConsumerGroupRules.ValidateInitialPosition(command.InitialPosition);
        if (problem is not null)
        {
            return Refuse(metadata, MetadataError.InvalidArgument(problem));
        }

        if (FindStream(metadata, command.StreamName, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (stream.Status is not (StreamStatus.Active or StreamStatus.Updating))
        {
            return Refuse(metadata, MetadataError.InUse(stream.Status == StreamStatus.Deleting
                ? $"Stream '{stream.Name}' is being deleted, and its consumer groups with it; join a group of another stream."
                : $"Stream '{stream.Name}' is {StatusName(stream.Status)}; consumer groups need it ACTIVE or UPDATING: wait until DescribeStreamSummary says ACTIVE, then join."));
        }

        var at = ToTime(command.TimestampUnixMs);
        if (!stream.ConsumerGroups.TryGetValue(command.GroupName, out var existing) && stream.ConsumerGroups.Count >= ConsumerGroupRules.MaxGroupsPerStream)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"Stream '{stream.Name}' has {stream.ConsumerGroups.Count} consumer groups, the most it allows; delete a group no longer used (DeleteGroup, or `streams group delete`) or join an existing one."));
        }

        var group = Sweep(existing ?? NewGroup(stream, command, at), at);
        if (!group.Members.ContainsKey(command.MemberId) && group.Members.Count >= ConsumerGroupRules.MaxMembersPerGroup)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"Group '{group.Name}' of stream '{stream.Name}' has {group.Members.Count} live members, the most it allows; stop some members or use another group."));
        }

        var timeout = ConsumerGroupRules.SessionTimeout(command.SessionTimeoutMs);
        group = group with { Members = group.Members.SetItem(command.MemberId, new GroupMemberRecord(command.MemberId, After(group.LastSeenAt, timeout), timeout)) };
        return WithGroup(metadata, stream, Rebalance(stream, group));
    }

    private static (ClusterMetadata, ApplyResult) GroupHeartbeat(ClusterMetadata metadata, GroupHeartbeatCommand command)
    {
        if (FindGroup(metadata, command.StreamName, command.GroupName, command.MemberId, out var stream, out var group) is { } error)
        {
            return Refuse(metadata, error);
        }

        group = Sweep(group, ToTime(command.TimestampUnixMs));
        if (!group.Members.TryGetValue(command.MemberId, out var member))
        {
            return Refuse(metadata, NotAMember(stream, group, command.MemberId));
        }

        return WithGroup(metadata, stream, Rebalance(stream, Refresh(group, member)));
    }

    private static (ClusterMetadata, ApplyResult) LeaveGroup(ClusterMetadata metadata, LeaveGroupCommand command)
    {
        if (FindGroupStream(metadata, command.StreamName, command.GroupName, command.MemberId, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        // Leaving is idempotent: a member (or group) that is gone already has left.
        if (!stream.ConsumerGroups.TryGetValue(command.GroupName, out var group) || !group.Members.ContainsKey(command.MemberId))
        {
            return Unchanged(metadata);
        }

        group = Sweep(group, ToTime(command.TimestampUnixMs));
        group = group with { Members = group.Members.Remove(command.MemberId) };
        return WithGroup(metadata, stream, Rebalance(stream, group));
    }

    private static (ClusterMetadata, ApplyResult) Checkpoint(ClusterMetadata metadata, CheckpointCommand command)
    {
        // The arguments first: a wrong shard or sequence number is the caller's mistake whatever its lease.
        if (FindGroupStream(metadata, command.StreamName, command.GroupName, command.MemberId, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (CheckCheckpoint(stream, command, out var shard, out var sequence) is { } invalid)
        {
            return Refuse(metadata, invalid);
        }

        if (FindGroup(stream, command.GroupName, out var group) is { } missing)
        {
            return Refuse(metadata, missing);
        }

        var state = group.ShardState(shard!.ShardId);
        if (command.ShardEnd && state.ShardEnd && state.Epoch == command.LeaseEpoch)
        {
            // The same end again (a proposal retried after a leader change): done already, not a lost lease.
            return Unchanged(metadata);
        }

        if (command.Prepare && state.Epoch == command.LeaseEpoch && (state.Pending == sequence || (state.Checkpoint is { } made && sequence <= made)))
        {
            // Prepared already, or prepared and made since (a retried proposal): nothing to do.
            return Unchanged(metadata);
        }

        group = Sweep(group, ToTime(command.TimestampUnixMs));
        if (!group.Members.TryGetValue(command.MemberId, out var member))
        {
            return Refuse(metadata, NotAMember(stream, group, command.MemberId));
        }

        if (state.Owner != command.MemberId || state.Epoch != command.LeaseEpoch)
        {
            var holder = state.Owner is null
                ? $"is not leased to any member now (its latest epoch is {state.Epoch})"
                : $"is leased to '{state.Owner}' at epoch {state.Epoch}";
            return Refuse(metadata, MetadataError.LeaseLost(
                $"Shard {shard.ShardId} of group '{group.Name}' (stream '{stream.Name}') {holder}, not to '{command.MemberId}' at epoch {command.LeaseEpoch}: stop processing it, and heartbeat (or join again) to learn your current leases."));
        }

        // Ending a shard frees its lease; the children may become leasable in the rebalance below.
        // A prepared checkpoint leaves the checkpoint alone; any other clears what was prepared.
        var updated = command.Prepare
            ? state with { Pending = sequence }
            : state with
            {
                Checkpoint = sequence ?? state.Checkpoint,
                ShardEnd = command.ShardEnd,
                Owner = command.ShardEnd ? null : state.Owner,
                Pending = null,
            };
        group = Refresh(group, member) with { Shards = group.Shards.SetItem(shard.ShardId, updated) };
        return WithGroup(metadata, stream, Rebalance(stream, group));
    }

    private static (ClusterMetadata, ApplyResult) DeleteGroup(ClusterMetadata metadata, DeleteGroupCommand command)
    {
        if (ConsumerGroupRules.ValidateGroupName(command.GroupName) is { } problem)
        {
            return Refuse(metadata, MetadataError.InvalidArgument(problem));
        }

        if (FindStream(metadata, command.StreamName, out var stream) is { } error)
        {
            return Refuse(metadata, error);
        }

        if (!stream.ConsumerGroups.TryGetValue(command.GroupName, out var group))
        {
            return Refuse(metadata, MetadataError.NotFound($"Group '{command.GroupName}' was not found in stream '{stream.Name}'; check the name (a group exists from its first JoinGroup until DeleteGroup)."));
        }

        group = Sweep(group, ToTime(command.TimestampUnixMs));
        if (group.Members.Count > 0)
        {
            const int Shown = 5;
            var names = string.Join(", ", group.Members.Keys.Take(Shown).Select(m => $"'{m}'"));
            var more = group.Members.Count > Shown ? $" and {group.Members.Count - Shown} more" : "";
            return Refuse(metadata, MetadataError.InUse(
                $"Group '{group.Name}' of stream '{stream.Name}' still has {group.Members.Count} live member(s): {names}{more}; stop them (LeaveGroup) or wait until their sessions expire, then delete the group."));
        }

        return (WithStream(metadata, stream with { ConsumerGroups = stream.ConsumerGroups.Remove(group.Name) }), ApplyResult.Done);
    }

    // A new group. A LATEST group counts the shards already closed as read: it starts at the open
    // shards' tips, and their closed ancestors would only hold older records.
    private static ConsumerGroupRecord NewGroup(StreamRecord stream, JoinGroupCommand command, DateTimeOffset at)
    {
        var position = ConsumerGroupRules.InitialPositionOf(command.InitialPosition);
        var group = new ConsumerGroupRecord
        {
            Name = command.GroupName,
            InitialPosition = position,
            CreatedAt = at,
            ShardCountAtCreation = stream.Shards.Length,
            LastSeenAt = at,
        };
        if (position == InitialPosition.Latest)
        {
            var ended = group.Shards.ToBuilder();
            foreach (var shard in stream.Shards.Where(s => !s.IsOpen))
            {
                ended[shard.ShardId] = GroupShard.None with { ShardEnd = true };
            }

            group = group with { Shards = ended.ToImmutable() };
        }

        return group;
    }

    // Checks the stream, the names and the group; an unknown group means the member is not in it.
    private static MetadataError? FindGroup(ClusterMetadata metadata, string streamName, string groupName, string memberId, out StreamRecord stream, out ConsumerGroupRecord group)
    {
        group = null!;
        return FindGroupStream(metadata, streamName, groupName, memberId, out stream) ?? FindGroup(stream, groupName, out group);
    }

    private static MetadataError? FindGroupStream(ClusterMetadata metadata, string streamName, string groupName, string memberId, out StreamRecord stream)
    {
        var problem = ConsumerGroupRules.ValidateGroupName(groupName) ?? ConsumerGroupRules.ValidateMemberId(memberId);
        if (problem is not null)
        {
            stream = null!;
            return MetadataError.InvalidArgument(problem);
        }

        return FindStream(metadata, streamName, out stream);
    }

    private static MetadataError? FindGroup(StreamRecord stream, string groupName, out ConsumerGroupRecord group)
    {
        if (stream.ConsumerGroups.TryGetValue(groupName, out var found))
        {
            group = found;
            return null;
        }

        group = null!;
        return MetadataError.LeaseLost($"Group '{groupName}' of stream '{stream.Name}' does not exist (it was deleted, or nobody joined it); call JoinGroup to create it and get leases.");
    }

    // The checkpoint's arguments against the shard: it is in the stream, the sequence number is in
    // the shard's range, and only a closed shard can be ended.
    private static MetadataError? CheckCheckpoint(StreamRecord stream, CheckpointCommand command, out ShardRecord? shard, out SequenceNumber? sequence)
    {
        sequence = null;
        if (!stream.TryGetShard(command.ShardId, out shard))
        {
            return MetadataError.InvalidArgument(ShardIds.TryParse(command.ShardId, out _)
                ? $"shard_id {command.ShardId} is not a shard of stream '{stream.Name}'; checkpoint a shard your lease names."
                : ShardIds.ParseError("shard_id", command.ShardId));
        }

        if (command.Prepare && command.ShardEnd)
        {
            return MetadataError.InvalidArgument("prepare and shard_end are both set; prepare a checkpoint at a sequence number, make it, then end the shard with a checkpoint of its own.");
        }

        if (command.SequenceNumber.Length == 0)
        {
            if (command.Prepare)
            {
                return MetadataError.InvalidArgument("prepare is set but sequence_number is empty; give the sequence number of the last record the prepared work covers.");
            }

            return command.ShardEnd ? CheckEnd(stream, shard) : MetadataError.InvalidArgument("sequence_number is empty; give the sequence number of the last record processed (it may be empty only with shard_end).");
        }

        if (!SequenceNumber.TryParse(command.SequenceNumber, out var value))
        {
            return MetadataError.InvalidArgument(SequenceNumber.ParseError("sequence_number", command.SequenceNumber));
        }

        if (value < shard.StartingSequenceNumber || (shard.EndingSequenceNumber is { } end && value > end))
        {
            var range = shard.EndingSequenceNumber is { } last ? $"{shard.StartingSequenceNumber} to {last}" : $"{shard.StartingSequenceNumber} on";
            return MetadataError.InvalidArgument($"sequence_number {value} is outside shard {shard.ShardId}'s sequence numbers ({range}); checkpoint a sequence number GetRecords returned from this shard.");
        }

        sequence = value;
        return command.ShardEnd ? CheckEnd(stream, shard) : null;
    }

    private static MetadataError? CheckEnd(StreamRecord stream, ShardRecord shard) =>
        shard.IsOpen
            ? MetadataError.InvalidArgument($"shard_end is set, but shard {shard.ShardId} of stream '{stream.Name}' is open: only a closed shard (split, merged or rescaled away) has an end; checkpoint without shard_end.")
            : null;

    private static MetadataError NotAMember(StreamRecord stream, ConsumerGroupRecord group, string memberId) =>
        MetadataError.LeaseLost($"Member '{memberId}' is not in group '{group.Name}' of stream '{stream.Name}' (its session expired without a heartbeat, it left, or it never joined); its leases went to other members: call JoinGroup again.");

    // Forgets the members whose session ran out. The group's clock is the latest command time it
    // saw, so a proposer whose clock is behind another's never brings an expired member back.
    private static ConsumerGroupRecord Sweep(ConsumerGroupRecord group, DateTimeOffset at)
    {
        var now = at > group.LastSeenAt ? at : group.LastSeenAt;
        var expired = group.Members.Values.Where(m => m.ExpiresAt < now).Select(m => m.MemberId).ToList();
        return group with { LastSeenAt = now, Members = expired.Count == 0 ? group.Members : group.Members.RemoveRange(expired) };
    }

    private static ConsumerGroupRecord Refresh(ConsumerGroupRecord group, GroupMemberRecord member) =>
        group with { Members = group.Members.SetItem(member.MemberId, member with { ExpiresAt = After(group.LastSeenAt, member.SessionTimeoutMs) }) };

    private static ConsumerGroupRecord Rebalance(StreamRecord stream, ConsumerGroupRecord group)
    {
        var assignment = LeaseAssigner.Assign(stream.Shards, group.Shards, group.Members.Keys);
        return assignment.Moved ? group with { Shards = assignment.Shards, Generation = group.Generation + 1 } : group;
    }

    // Whole milliseconds, clamped like every command time, so the state survives a snapshot exactly.
    private static DateTimeOffset After(DateTimeOffset at, int milliseconds) => ToTime(at.ToUnixTimeMilliseconds() + milliseconds);

    private static (ClusterMetadata, ApplyResult) WithGroup(ClusterMetadata metadata, StreamRecord stream, ConsumerGroupRecord group) =>
        (WithStream(metadata, stream with { ConsumerGroups = stream.ConsumerGroups.SetItem(group.Name, group) }), ApplyResult.Done);
}
