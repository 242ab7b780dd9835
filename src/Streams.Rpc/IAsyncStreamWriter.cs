namespace Streams.Rpc;

/// <summary>
/// Writes a stream of messages. A write completes when the transport has taken the message, so a
/// slow reader on the other side slows the writer down (HTTP/2 flow control). One write at a time.
/// </summary>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>Writes one message.</summary>
    /// <exception cref="RpcException">The call has ended, or the message is too large.</exception>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>A server's response stream.</summary>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

/// <summary>A client's request stream, which the client completes when it has sent everything.</summary>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream (half-close); the server sees the end of its requests.</summary>
    Task CompleteAsync();
}
