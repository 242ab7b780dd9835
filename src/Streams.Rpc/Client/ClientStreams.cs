namespace Streams.Rpc.Client;

/// <summary>A call's response stream as an <see cref="IAsyncStreamReader{T}"/>.</summary>
internal sealed class ClientResponseStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IAsyncStreamReader<TResponse>
{
    private TResponse? _current;

    public TResponse Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first, and only use Current after it returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        var (hasMessage, message) = await call.ReadAsync(cancellationToken).ConfigureAwait(false);
        _current = hasMessage ? message : default;
        return hasMessage;
    }
}

/// <summary>A call's request stream as an <see cref="IClientStreamWriter{T}"/>.</summary>
internal sealed class ClientRequestStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IClientStreamWriter<TRequest>
{
    public Task WriteAsync(TRequest message, CancellationToken cancellationToken = default) => call.WriteAsync(message, cancellationToken);

    public Task CompleteAsync() => call.CompleteRequestAsync();
}
