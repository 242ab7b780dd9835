using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>
/// The controller's deterministic state machine: it applies controller commands, one at a time in
/// log order, to the current <see cref="ClusterMetadata"/>, and snapshots and restores it. No I/O,
/// no clock, no randomness: timestamps and random bytes come inside the commands. A command that
/// breaks a rule is refused (the state is unchanged and the result carries a Kinesis error), never
/// thrown. One thread applies; any thread may read <see cref="Current"/>.
/// </summary>
/// <remarks>
/// DeleteStream only marks a stream DELETING; the runtime removes its shard groups and then applies
/// StreamDeleted, which forgets it. Until then the name stays taken and the replicas stay counted,
/// so nothing is placed on top of groups that still exist.
/// </remarks>
public sealed partial class ControllerState
{
    private ClusterMetadata _current = ClusterMetadata.Empty;

    /// <summary>The state after the last command applied.</summary>
    public ClusterMetadata Current => Volatile.Read(ref _current);

    /// <summary>Applies one command from the log.</summary>
    /// <param name="command">The command.</param>
    public ApplyResult Apply(ControllerCommand command)
    {
        var before = Current;
        var (after, result) = Evaluate(before, command);
        if (!ReferenceEquals(after, before))
        {
            Volatile.Write(ref _current, after);
        }

        return result;
    }

    /// <summary>
    /// What <paramref name="command"/> would do to <paramref name="metadata"/>, without applying it:
    /// the next state and the result. A proposer may use it to refuse early; only the log decides.
    /// </summary>
    /// <param name="metadata">The state before.</param>
    /// <param name="command">The command.</param>
    public static (ClusterMetadata State, ApplyResult Result) Evaluate(ClusterMetadata metadata, ControllerCommand command)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(command);
        if (command.CommandCase == ControllerCommand.CommandOneofCase.Bootstrap)
        {
            return Bootstrap(metadata, command.Bootstrap);
        }

        if (!metadata.IsBootstrapped)
        {
            return Refuse(metadata, MetadataError.InUse("The cluster is not bootstrapped yet: its first controller leader applies Bootstrap before anything else; retry shortly."));
        }

        return command.CommandCase switch
        {
            ControllerCommand.CommandOneofCase.UpdateLimits => UpdateLimits(metadata, command.UpdateLimits),
            ControllerCommand.CommandOneofCase.CreateStream => CreateStream(metadata, command.CreateStream),
            ControllerCommand.CommandOneofCase.DeleteStream => DeleteStream(metadata, command.DeleteStream),
            ControllerCommand.CommandOneofCase.StreamDeleted => StreamDeleted(metadata, command.StreamDeleted),
            ControllerCommand.CommandOneofCase.SplitShard => SplitShard(metadata, command.SplitShard),
            ControllerCommand.CommandOneofCase.MergeShards => MergeShards(metadata, command.MergeShards),
            ControllerCommand.CommandOneofCase.UpdateShardCount => UpdateShardCount(metadata, command.UpdateShardCount),
            ControllerCommand.CommandOneofCase.IncreaseRetention => ChangeRetention(metadata, command.IncreaseRetention, increase: true),
            ControllerCommand.CommandOneofCase.DecreaseRetention => ChangeRetention(metadata, command.DecreaseRetention, increase: false),
            ControllerCommand.CommandOneofCase.ReportShardLeader => ReportShardLeader(metadata, command.ReportShardLeader),
            ControllerCommand.CommandOneofCase.ReportShardSealed => ReportShardSealed(metadata, command.ReportShardSealed),
            ControllerCommand.CommandOneofCase.AddNode => AddNode(metadata, command.AddNode),
            ControllerCommand.CommandOneofCase.PromoteNode => PromoteNode(metadata, command.PromoteNode),
            ControllerCommand.CommandOneofCase.RemoveNode => RemoveNode(metadata, command.RemoveNode),
            ControllerCommand.CommandOneofCase.NodeRemoved => NodeRemoved(metadata, command.NodeRemoved),
            ControllerCommand.CommandOneofCase.ReplicaMoveStep => ReplicaMoveStep(metadata, command.ReplicaMoveStep),
            ControllerCommand.CommandOneofCase.JoinGroup => JoinGroup(metadata, command.JoinGroup),
            ControllerCommand.CommandOneofCase.GroupHeartbeat => GroupHeartbeat(metadata, command.GroupHeartbeat),
            ControllerCommand.CommandOneofCase.LeaveGroup => LeaveGroup(metadata, command.LeaveGroup),
            ControllerCommand.CommandOneofCase.Checkpoint => Checkpoint(metadata, command.Checkpoint),
            ControllerCommand.CommandOneofCase.DeleteGroup => DeleteGroup(metadata, command.DeleteGroup),
            ControllerCommand.CommandOneofCase.CreateDeliveryStream => CreateDeliveryStream(metadata, command.CreateDeliveryStream),
            ControllerCommand.CommandOneofCase.UpdateDestination => UpdateDestination(metadata, command.UpdateDestination),
            ControllerCommand.CommandOneofCase.DeleteDeliveryStream => DeleteDeliveryStream(metadata, command.DeleteDeliveryStream),
            ControllerCommand.CommandOneofCase.DeliveryProgress => DeliveryProgress(metadata, command.DeliveryProgress),
            _ => Refuse(metadata, MetadataError.InvalidArgument("The controller command is empty or of a kind this node does not know; set one of its cases.")),
        };
    }

    /// <summary>The state as bytes (a <see cref="ControllerSnapshot"/>): equal states give equal bytes.</summary>
    public byte[] Snapshot() => ControllerSnapshotFormat.Encode(Current);

    /// <summary>Replaces the whole state with a snapshot; throws an <see cref="InvalidDataException"/> when the bytes are not one.</summary>
    /// <param name="snapshot">Bytes from <see cref="Snapshot"/>.</param>
    public void Restore(ReadOnlySpan<byte> snapshot) => Volatile.Write(ref _current, ControllerSnapshotFormat.Decode(snapshot));

    private static (ClusterMetadata, ApplyResult) Refuse(ClusterMetadata metadata, MetadataError error) => (metadata, ApplyResult.Refused(error));

    private static (ClusterMetadata, ApplyResult) Unchanged(ClusterMetadata metadata) => (metadata, ApplyResult.Unchanged);

    // Commands carry Unix milliseconds; a value outside DateTimeOffset's range is clamped, not thrown on.
    private static DateTimeOffset ToTime(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(unixMs, DateTimeOffset.MinValue.ToUnixTimeMilliseconds(), DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    private static string StatusName(StreamStatus status) => status.ToString().ToUpperInvariant();

    private static MetadataError? FindStream(ClusterMetadata metadata, string name, out StreamRecord stream)
    {
        stream = null!;
        if (string.IsNullOrEmpty(name))
        {
            return MetadataError.InvalidArgument("stream_name is required.");
        }

        if (!metadata.TryGetStream(name, out var found))
        {
            return MetadataError.NotFound($"Stream '{name}' not found; check the name (ListStreams lists the streams).");
        }

        stream = found;
        return null;
    }

    private static MetadataError? FindShard(StreamRecord stream, string shardId, string fieldName, out ShardRecord shard)
    {
        shard = null!;
        if (!Routing.ShardIds.TryParse(shardId, out _))
        {
            return MetadataError.InvalidArgument(Routing.ShardIds.ParseError(fieldName, shardId));
        }

        if (!stream.TryGetShard(shardId, out var found))
        {
            return MetadataError.NotFound($"Shard '{shardId}' ({fieldName}) not found in stream '{stream.Name}'; ListShards lists its shards.");
        }

        shard = found;
        return null;
    }

    private static MetadataError? RequireActive(StreamRecord stream, string operation) =>
        stream.Status == StreamStatus.Active
            ? null
            : MetadataError.InUse($"Stream '{stream.Name}' is {StatusName(stream.Status)}; {operation} needs it ACTIVE: wait until DescribeStreamSummary says ACTIVE, then retry.");

    private static ClusterMetadata WithStream(ClusterMetadata metadata, StreamRecord stream) =>
        metadata with { Streams = metadata.Streams.SetItem(stream.Name, stream) };
}
