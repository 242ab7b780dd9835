using Streams.Rpc.Client;
using Streams.Testing.V1;

namespace Streams.Rpc.Interop;

/// <summary>The client of <c>streams.testing.v1.Interop</c>.</summary>
public sealed class InteropClient(RpcChannel channel)
{
    public AsyncUnaryCall<EchoResponse> UnaryAsync(EchoRequest request, CallOptions options = default) => channel.UnaryCall(InteropMethods.Unary, request, options);

    public AsyncServerStreamingCall<EchoResponse> ServerStream(EchoRequest request, CallOptions options = default) => channel.ServerStreamingCall(InteropMethods.ServerStream, request, options);

    public AsyncClientStreamingCall<EchoRequest, EchoResponse> ClientStream(CallOptions options = default) => channel.ClientStreamingCall(InteropMethods.ClientStream, options);

    public AsyncDuplexStreamingCall<EchoRequest, EchoResponse> Bidi(CallOptions options = default) => channel.DuplexStreamingCall(InteropMethods.Bidi, options);

    public AsyncUnaryCall<OutcomeResponse> GetCallOutcomeAsync(OutcomeRequest request, CallOptions options = default) => channel.UnaryCall(InteropMethods.GetCallOutcome, request, options);
}
