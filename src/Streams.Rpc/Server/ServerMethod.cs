namespace Streams.Rpc.Server;

/// <summary>A bound method: reads the requests, runs the handler, writes the responses.</summary>
internal abstract class ServerMethod(string path)
{
    public string Path { get; } = path;

    public abstract Task InvokeAsync(ServerCallContext context);

    /// <summary>Reads the single request of a unary or server-streaming call.</summary>
    protected static async Task<TRequest> ReadSingleRequestAsync<TRequest>(ServerCallContext context, Marshaller<TRequest> marshaller)
    {
        var (hasMessage, request) = await context.ReadMessageAsync(marshaller, context.CancellationToken).ConfigureAwait(false);
        if (!hasMessage)
        {
            throw new RpcException(StatusCode.Internal, $"{context.Method} takes exactly one request message; the request stream ended with none.");
        }

        var (hasAnother, _) = await context.ReadMessageAsync(marshaller, context.CancellationToken).ConfigureAwait(false);
        if (hasAnother)
        {
            throw new RpcException(StatusCode.Internal, $"{context.Method} takes exactly one request message; the client sent more.");
        }

        return request;
    }
}

internal sealed class UnaryServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TRequest, ServerCallContext, Task<TResponse>> handler)
    : ServerMethod(method.Path)
{
    public override async Task InvokeAsync(ServerCallContext context)
    {
        var request = await ReadSingleRequestAsync(context, method.RequestMarshaller).ConfigureAwait(false);
        var response = await handler(request, context).ConfigureAwait(false);
        if (context.Status.Code == StatusCode.OK)
        {
            await context.WriteMessageAsync(response, method.ResponseMarshaller, context.CancellationToken).ConfigureAwait(false);
        }
    }
}

internal sealed class ServerStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
    : ServerMethod(method.Path)
{
    public override async Task InvokeAsync(ServerCallContext context)
    {
        var request = await ReadSingleRequestAsync(context, method.RequestMarshaller).ConfigureAwait(false);
        await handler(request, new ServerResponseStream<TResponse>(context, method.ResponseMarshaller), context).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>> handler)
    : ServerMethod(method.Path)
{
    public override async Task InvokeAsync(ServerCallContext context)
    {
        var response = await handler(new ServerRequestStream<TRequest>(context, method.RequestMarshaller), context).ConfigureAwait(false);
        if (context.Status.Code == StatusCode.OK)
        {
            await context.WriteMessageAsync(response, method.ResponseMarshaller, context.CancellationToken).ConfigureAwait(false);
        }
    }
}

internal sealed class DuplexStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
    : ServerMethod(method.Path)
{
    public override Task InvokeAsync(ServerCallContext context) =>
        handler(new ServerRequestStream<TRequest>(context, method.RequestMarshaller), new ServerResponseStream<TResponse>(context, method.ResponseMarshaller), context);
}
