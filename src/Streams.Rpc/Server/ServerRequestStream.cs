namespace Streams.Rpc.Server;

/// <summary>The request stream of a client-streaming or duplex call.</summary>
internal sealed class ServerRequestStream<T>(ServerCallContext context, Marshaller<T> marshaller) : IAsyncStreamReader<T>
{
    private T? _current;
    private bool _ended;

    public T Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first, and only use Current after it returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return false;
        }

        var token = cancellationToken.CanBeCanceled ? cancellationToken : context.CancellationToken;
        var (hasMessage, message) = await context.ReadMessageAsync(marshaller, token).ConfigureAwait(false);
        if (!hasMessage)
        {
            _ended = true;
            _current = default;
            return false;
        }

        _current = message;
        return true;
    }
}
