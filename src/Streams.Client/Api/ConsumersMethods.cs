using Streams.Rpc;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The methods of <c>streams.v1.Consumers</c>: consumer groups, shard leases and checkpoints.</summary>
public static class ConsumersMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.v1.Consumers";

    /// <summary>JoinGroup.</summary>
    public static readonly Method<JoinGroupRequest, JoinGroupResponse> JoinGroup = Unary<JoinGroupRequest, JoinGroupResponse>("JoinGroup");

    /// <summary>Heartbeat.</summary>
    public static readonly Method<HeartbeatRequest, HeartbeatResponse> Heartbeat = Unary<HeartbeatRequest, HeartbeatResponse>("Heartbeat");

    /// <summary>LeaveGroup.</summary>
    public static readonly Method<LeaveGroupRequest, LeaveGroupResponse> LeaveGroup = Unary<LeaveGroupRequest, LeaveGroupResponse>("LeaveGroup");

    /// <summary>Checkpoint.</summary>
    public static readonly Method<CheckpointRequest, CheckpointResponse> Checkpoint = Unary<CheckpointRequest, CheckpointResponse>("Checkpoint");

    /// <summary>GetCheckpoints.</summary>
    public static readonly Method<GetCheckpointsRequest, GetCheckpointsResponse> GetCheckpoints = Unary<GetCheckpointsRequest, GetCheckpointsResponse>("GetCheckpoints");

    /// <summary>DeleteGroup.</summary>
    public static readonly Method<DeleteGroupRequest, DeleteGroupResponse> DeleteGroup = Unary<DeleteGroupRequest, DeleteGroupResponse>("DeleteGroup");

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name)
        where TRequest : Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : Google.Protobuf.IMessage<TResponse>, new() =>
        Method.Protobuf<TRequest, TResponse>(MethodType.Unary, ServiceName, name);
}
