using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>Consumer group commands for one stream and group, stamped with explicit times.</summary>
internal sealed record GroupCommands(string Stream, string Group)
{
    public ControllerCommand Join(string member, long atMs, int sessionTimeoutMs = 10_000, InitialPosition position = InitialPosition.Unspecified) =>
        new() { JoinGroup = new JoinGroupCommand { StreamName = Stream, GroupName = Group, MemberId = member, SessionTimeoutMs = sessionTimeoutMs, InitialPosition = (int)position, TimestampUnixMs = atMs } };

    public ControllerCommand Heartbeat(string member, long atMs) =>
        new() { GroupHeartbeat = new GroupHeartbeatCommand { StreamName = Stream, GroupName = Group, MemberId = member, TimestampUnixMs = atMs } };

    public ControllerCommand Leave(string member, long atMs) =>
        new() { LeaveGroup = new LeaveGroupCommand { StreamName = Stream, GroupName = Group, MemberId = member, TimestampUnixMs = atMs } };

    public ControllerCommand Checkpoint(string member, string shardId, long epoch, string sequenceNumber, long atMs, bool shardEnd = false) =>
        new() { Checkpoint = new CheckpointCommand { StreamName = Stream, GroupName = Group, MemberId = member, ShardId = shardId, LeaseEpoch = epoch, SequenceNumber = sequenceNumber, ShardEnd = shardEnd, TimestampUnixMs = atMs } };

    public ControllerCommand Prepare(string member, string shardId, long epoch, string sequenceNumber, long atMs) =>
        new() { Checkpoint = new CheckpointCommand { StreamName = Stream, GroupName = Group, MemberId = member, ShardId = shardId, LeaseEpoch = epoch, SequenceNumber = sequenceNumber, Prepare = true, TimestampUnixMs = atMs } };

    public ControllerCommand Delete(long atMs) =>
        new() { DeleteGroup = new DeleteGroupCommand { StreamName = Stream, GroupName = Group, TimestampUnixMs = atMs } };
}
