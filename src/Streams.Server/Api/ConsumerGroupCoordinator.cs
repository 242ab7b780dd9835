using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// The consumer group operations of the API. Every change (join, heartbeat, leave, checkpoint,
/// delete) is a controller command stamped with this node's clock and applied through the
/// controller's log, so all nodes agree on members, leases and epochs; the answer is read from this
/// node's copy once it applied the command. Arguments are checked here too, with the controller's
/// own rules, so a bad request costs no log entry.
/// </summary>
internal sealed class ConsumerGroupCoordinator(StreamsCluster cluster, StreamAdministration administration, RecordFetcher fetcher, StreamsApiMetrics metrics, TimeProvider time)
{
    /// <summary>JoinGroup.</summary>
    public async Task<JoinGroupResponse> JoinAsync(JoinGroupRequest request, CancellationToken cancellationToken)
    {
        Check(ConsumerGroupRules.ValidateGroupName(request.GroupName)
            ?? ConsumerGroupRules.ValidateMemberId(request.MemberId)
            ?? ConsumerGroupRules.ValidateSessionTimeout(request.SessionTimeoutMs)
            ?? ConsumerGroupRules.ValidateInitialPosition((int)request.InitialPosition));
        await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await ProposeAsync(request.StreamName, new ControllerCommand
        {
            JoinGroup = new JoinGroupCommand
            {
                StreamName = request.StreamName,
                GroupName = request.GroupName,
                MemberId = request.MemberId,
                SessionTimeoutMs = request.SessionTimeoutMs,
                InitialPosition = (int)request.InitialPosition,
                TimestampUnixMs = Now(),
            },
        }, cancellationToken).ConfigureAwait(false);

        var (stream, group, member) = MemberNow(request.StreamName, request.GroupName, request.MemberId);
        var response = new JoinGroupResponse
        {
            ExpiresAt = Timestamp.FromDateTimeOffset(member.ExpiresAt),
            SessionTimeoutMs = member.SessionTimeoutMs,
            HeartbeatIntervalMs = member.SessionTimeoutMs / 3,
            Generation = group.Generation,
        };
        response.Leases.AddRange(ConsumerResponses.LeasesOf(stream, group, member.MemberId));
        return response;
    }

    /// <summary>Heartbeat.</summary>
    public async Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken)
    {
        CheckMember(request.GroupName, request.MemberId);
        await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await ProposeAsync(request.StreamName, new ControllerCommand
        {
            GroupHeartbeat = new GroupHeartbeatCommand { StreamName = request.StreamName, GroupName = request.GroupName, MemberId = request.MemberId, TimestampUnixMs = Now() },
        }, cancellationToken).ConfigureAwait(false);

        var (stream, group, member) = MemberNow(request.StreamName, request.GroupName, request.MemberId);
        var response = new HeartbeatResponse { ExpiresAt = Timestamp.FromDateTimeOffset(member.ExpiresAt), Generation = group.Generation };
        response.Leases.AddRange(ConsumerResponses.LeasesOf(stream, group, member.MemberId));
        return response;
    }

    /// <summary>LeaveGroup.</summary>
    public async Task<LeaveGroupResponse> LeaveAsync(LeaveGroupRequest request, CancellationToken cancellationToken)
    {
        CheckMember(request.GroupName, request.MemberId);
        await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await ProposeAsync(request.StreamName, new ControllerCommand
        {
            LeaveGroup = new LeaveGroupCommand { StreamName = request.StreamName, GroupName = request.GroupName, MemberId = request.MemberId, TimestampUnixMs = Now() },
        }, cancellationToken).ConfigureAwait(false);
        return new LeaveGroupResponse();
    }

    /// <summary>Checkpoint.</summary>
    public async Task<CheckpointResponse> CheckpointAsync(CheckpointRequest request, CancellationToken cancellationToken)
    {
        CheckMember(request.GroupName, request.MemberId);
        var stream = await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        if (!stream.TryGetShard(request.ShardId, out var shard))
        {
            // INVALID_ARGUMENT rather than NOT_FOUND: the stream exists, the request names a shard it never had.
            throw StreamsApiException.InvalidArgument(ShardIds.TryParse(request.ShardId, out _)
                ? $"shard_id {request.ShardId} is not a shard of stream '{stream.Name}'; checkpoint a shard your lease names."
                : ShardIds.ParseError("shard_id", request.ShardId));
        }

        if (request.SequenceNumber.Length > 0)
        {
            if (!SequenceNumber.TryParse(request.SequenceNumber, out _))
            {
                throw StreamsApiException.InvalidArgument(SequenceNumber.ParseError("sequence_number", request.SequenceNumber));
            }

            // A sealed shard's last sequence number is in the metadata, and the controller checks it.
            if (shard.EndingSequenceNumber is null)
            {
                await CheckWrittenAsync(stream, shard, request.SequenceNumber, cancellationToken).ConfigureAwait(false);
            }
        }

        await ProposeAsync(request.StreamName, new ControllerCommand
        {
            Checkpoint = new CheckpointCommand
            {
                StreamName = request.StreamName,
                GroupName = request.GroupName,
                MemberId = request.MemberId,
                ShardId = request.ShardId,
                SequenceNumber = request.SequenceNumber,
                LeaseEpoch = request.LeaseEpoch,
                ShardEnd = request.ShardEnd,
                Prepare = request.Prepare,
                TimestampUnixMs = Now(),
            },
        }, cancellationToken).ConfigureAwait(false);
        metrics.RecordCheckpoint(stream.Name);
        return new CheckpointResponse();
    }

    /// <summary>GetCheckpoints, from this node's copy (made linearizable when the group is not in it).</summary>
    public async Task<GetCheckpointsResponse> GetCheckpointsAsync(GetCheckpointsRequest request, CancellationToken cancellationToken)
    {
        Check(ConsumerGroupRules.ValidateGroupName(request.GroupName));
        var stream = await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        if (!stream.ConsumerGroups.TryGetValue(request.GroupName, out var group))
        {
            // The group may have just been created through another node.
            var controller = cluster.Controller ?? throw StreamsApiException.Unavailable("This node is starting; retry.");
            var metadata = await controller.ReadLinearizableAsync(cancellationToken).ConfigureAwait(false);
            if (!metadata.TryGetStream(request.StreamName, out var latest) || !latest.ConsumerGroups.TryGetValue(request.GroupName, out group))
            {
                throw StreamsApiException.NotFound($"Group '{request.GroupName}' was not found in stream '{stream.Name}'; check the name (a group exists from its first JoinGroup until DeleteGroup).");
            }

            stream = latest;
        }

        return ConsumerResponses.Checkpoints(stream, group, time.GetUtcNow());
    }

    /// <summary>DeleteGroup.</summary>
    public async Task<DeleteGroupResponse> DeleteAsync(DeleteGroupRequest request, CancellationToken cancellationToken)
    {
        Check(ConsumerGroupRules.ValidateGroupName(request.GroupName));
        await administration.FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await ProposeAsync(request.StreamName, new ControllerCommand
        {
            DeleteGroup = new DeleteGroupCommand { StreamName = request.StreamName, GroupName = request.GroupName, TimestampUnixMs = Now() },
        }, cancellationToken).ConfigureAwait(false);
        return new DeleteGroupResponse();
    }

    // An open shard's last record moves with every write, so the controller cannot check that a
    // checkpoint is not beyond it. GetShardIterator at that sequence number makes exactly this check
    // on a replica caught up with the shard's leader (ReadIndex): this node's replica when it has
    // one, else forwarded to a node that has (so the check is never skipped).
    private async Task CheckWrittenAsync(StreamRecord stream, ShardRecord shard, string sequenceNumber, CancellationToken cancellationToken)
    {
        var probe = new GetShardIteratorRequest { StreamName = stream.Name, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.AtSequenceNumber, StartingSequenceNumber = sequenceNumber };
        try
        {
            await fetcher.GetShardIteratorAsync(probe, forwarded: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamsApiException { Code: StatusCode.InvalidArgument } or RpcException { StatusCode: StatusCode.InvalidArgument })
        {
            throw StreamsApiException.InvalidArgument($"sequence_number {sequenceNumber} is beyond the last record written to shard {shard.ShardId} of stream '{stream.Name}'; checkpoint a sequence number GetRecords returned from this shard.");
        }
    }

    private async Task ProposeAsync(string streamName, ControllerCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await cluster.Proposer.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamsApiException ex) when (ex.ErrorName == StreamsErrors.LeaseLost)
        {
            metrics.RecordLeaseLost(streamName);
            throw;
        }
    }

    // The member as this node's copy has it right after its command applied. It may be gone by
    // then only if a later command expired it or deleted the stream: it must join again.
    private (StreamRecord Stream, ConsumerGroupRecord Group, GroupMemberRecord Member) MemberNow(string streamName, string groupName, string memberId)
    {
        if (cluster.Metadata.TryGetStream(streamName, out var stream)
            && stream.ConsumerGroups.TryGetValue(groupName, out var group)
            && group.Members.TryGetValue(memberId, out var member))
        {
            return (stream, group, member);
        }

        throw new StreamsApiException(StatusCode.FailedPrecondition, StreamsErrors.LeaseLost, $"Member '{memberId}' left group '{groupName}' of stream '{streamName}' (expired or removed) right after this call; call JoinGroup again.");
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static void CheckMember(string groupName, string memberId) =>
        Check(ConsumerGroupRules.ValidateGroupName(groupName) ?? ConsumerGroupRules.ValidateMemberId(memberId));

    private static void Check(string? problem)
    {
        if (problem is not null)
        {
            throw StreamsApiException.InvalidArgument(problem);
        }
    }
}
