namespace Streams.Rpc.Client;

/// <summary>A call's response stream as an <see cref="IAsyncStreamReader{T}"/>.</summary>
internal sealed class ClientResponseStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IAsyncStreamReader<TResponse>
{
    private static readonly Task<bool> _true = Task.FromResult(true);
    private static readonly Task<bool> _false = Task.FromResult(false);

    private TResponse? _current;

    public TResponse Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first, and only use Current after it returned true.");

    public Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        var read = call.ReadAsync(cancellationToken);
        if (!read.IsCompletedSuccessfully)
        {
            return MoveNextAsync(read);
        }

        // The next message was already buffered: no state machine, and a cached task.
        var (hasMessage, message) = read.Result;
        _current = hasMessage ? message : default;
        return hasMessage ? _true : _false;
    }

    private async Task<bool> MoveNextAsync(ValueTask<(bool HasMessage, TResponse Message)> read)
    {
        var (hasMessage, message) = await read.ConfigureAwait(false);
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
