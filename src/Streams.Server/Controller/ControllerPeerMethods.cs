using Streams.Rpc;
using Streams.Server.Controller.V1;
using Streams.Server.Metadata.V1;

namespace Streams.Server.Controller;

/// <summary>The methods of <c>streams.internal.v1.ControllerPeer</c>.</summary>
internal static class ControllerPeerMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.internal.v1.ControllerPeer";

    /// <summary>Propose: a controller command, on the controller's leader.</summary>
    public static readonly Method<ControllerCommand, ProposeReply> Propose = Method.Protobuf<ControllerCommand, ProposeReply>(MethodType.Unary, ServiceName, "Propose");
}
