using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The raw client of <c>streams.v1.Consumers</c>: one call per operation, no retries. Any node accepts any request.</summary>
public sealed class ConsumersApiClient(RpcChannel channel)
{
    /// <summary>JoinGroup.</summary>
    public AsyncUnaryCall<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.JoinGroup, request, options);

    /// <summary>Heartbeat.</summary>
    public AsyncUnaryCall<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.Heartbeat, request, options);

    /// <summary>LeaveGroup.</summary>
    public AsyncUnaryCall<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.LeaveGroup, request, options);

    /// <summary>Checkpoint.</summary>
    public AsyncUnaryCall<CheckpointResponse> CheckpointAsync(CheckpointRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.Checkpoint, request, options);

    /// <summary>GetCheckpoints.</summary>
    public AsyncUnaryCall<GetCheckpointsResponse> GetCheckpointsAsync(GetCheckpointsRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.GetCheckpoints, request, options);

    /// <summary>DeleteGroup.</summary>
    public AsyncUnaryCall<DeleteGroupResponse> DeleteGroupAsync(DeleteGroupRequest request, CallOptions options = default) =>
        channel.UnaryCall(ConsumersMethods.DeleteGroup, request, options);
}
