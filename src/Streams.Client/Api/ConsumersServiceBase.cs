using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The server side of <c>streams.v1.Consumers</c>; methods not overridden answer UNIMPLEMENTED.</summary>
public abstract class ConsumersServiceBase : IRpcService
{
    /// <summary>JoinGroup.</summary>
    public virtual Task<JoinGroupResponse> JoinGroup(JoinGroupRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>Heartbeat.</summary>
    public virtual Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>LeaveGroup.</summary>
    public virtual Task<LeaveGroupResponse> LeaveGroup(LeaveGroupRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>Checkpoint.</summary>
    public virtual Task<CheckpointResponse> Checkpoint(CheckpointRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>GetCheckpoints.</summary>
    public virtual Task<GetCheckpointsResponse> GetCheckpoints(GetCheckpointsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DeleteGroup.</summary>
    public virtual Task<DeleteGroupResponse> DeleteGroup(DeleteGroupRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <inheritdoc />
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(ConsumersMethods.JoinGroup, JoinGroup);
        binder.AddUnary(ConsumersMethods.Heartbeat, Heartbeat);
        binder.AddUnary(ConsumersMethods.LeaveGroup, LeaveGroup);
        binder.AddUnary(ConsumersMethods.Checkpoint, Checkpoint);
        binder.AddUnary(ConsumersMethods.GetCheckpoints, GetCheckpoints);
        binder.AddUnary(ConsumersMethods.DeleteGroup, DeleteGroup);
    }
}
