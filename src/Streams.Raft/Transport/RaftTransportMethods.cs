using Streams.Raft.Transport.V1;
using Streams.Rpc;

namespace Streams.Raft.Transport;

/// <summary>The methods of <c>streams.raft.v1.RaftTransport</c>.</summary>
public static class RaftTransportMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.raft.v1.RaftTransport";

    /// <summary>Send: delivers one batch of Raft messages from one node to another.</summary>
    public static readonly Method<RaftBatch, RaftBatchAck> Send = Method.Protobuf<RaftBatch, RaftBatchAck>(MethodType.Unary, ServiceName, "Send");
}
