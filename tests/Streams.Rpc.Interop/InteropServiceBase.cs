using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Interop;

/// <summary>The server side of <c>streams.testing.v1.Interop</c>.</summary>
public abstract class InteropServiceBase : IRpcService
{
    public virtual Task<EchoResponse> Unary(EchoRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    public virtual Task ServerStream(EchoRequest request, IServerStreamWriter<EchoResponse> responses, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    public virtual Task<EchoResponse> ClientStream(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    public virtual Task Bidi(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    public virtual Task<OutcomeResponse> GetCallOutcome(OutcomeRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(InteropMethods.Unary, Unary);
        binder.AddServerStreaming(InteropMethods.ServerStream, ServerStream);
        binder.AddClientStreaming(InteropMethods.ClientStream, ClientStream);
        binder.AddDuplexStreaming(InteropMethods.Bidi, Bidi);
        binder.AddUnary(InteropMethods.GetCallOutcome, GetCallOutcome);
    }
}
