using Streams.Client.Api;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Serves <c>streams.v1.Consumers</c>: consumer groups, shard leases and checkpoints, handed to
/// <see cref="ConsumerGroupCoordinator"/>; errors are mapped as for the Streams service (<see cref="ApiCalls"/>).
/// </summary>
internal sealed class ConsumersService(ConsumerGroupCoordinator coordinator, ILogger<ConsumersService> logger) : ConsumersServiceBase
{
    /// <inheritdoc/>
    public override Task<JoinGroupResponse> JoinGroup(JoinGroupRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.JoinAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.HeartbeatAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<LeaveGroupResponse> LeaveGroup(LeaveGroupRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.LeaveAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<CheckpointResponse> Checkpoint(CheckpointRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.CheckpointAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<GetCheckpointsResponse> GetCheckpoints(GetCheckpointsRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.GetCheckpointsAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<DeleteGroupResponse> DeleteGroup(DeleteGroupRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => coordinator.DeleteAsync(request, context.CancellationToken));
}
