using Streams.Testing.V1;

namespace Streams.Rpc.Interop;

/// <summary>The methods of <c>streams.testing.v1.Interop</c>.</summary>
public static class InteropMethods
{
    public const string ServiceName = "streams.testing.v1.Interop";

    public static readonly Method<EchoRequest, EchoResponse> Unary = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.Unary, ServiceName, "Unary");
    public static readonly Method<EchoRequest, EchoResponse> ServerStream = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.ServerStreaming, ServiceName, "ServerStream");
    public static readonly Method<EchoRequest, EchoResponse> ClientStream = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.ClientStreaming, ServiceName, "ClientStream");
    public static readonly Method<EchoRequest, EchoResponse> Bidi = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.DuplexStreaming, ServiceName, "Bidi");
    public static readonly Method<OutcomeRequest, OutcomeResponse> GetCallOutcome = Method.Protobuf<OutcomeRequest, OutcomeResponse>(MethodType.Unary, ServiceName, "GetCallOutcome");
}
