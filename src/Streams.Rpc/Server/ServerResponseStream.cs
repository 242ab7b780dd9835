namespace Streams.Rpc.Server;

/// <summary>The response stream of a server-streaming or duplex call.</summary>
internal sealed class ServerResponseStream<T>(ServerCallContext context, Marshaller<T> marshaller) : IServerStreamWriter<T>
{
    public Task WriteAsync(T message, CancellationToken cancellationToken = default) =>
        context.WriteMessageAsync(message, marshaller, cancellationToken);
}
