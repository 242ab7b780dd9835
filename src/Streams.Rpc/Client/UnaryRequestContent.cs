using System.Net;

namespace Streams.Rpc.Client;

/// <summary>The body of a call with a single request: one framed message, serialized up front.</summary>
internal sealed class UnaryRequestContent : HttpContent
{
    private readonly ReadOnlyMemory<byte> _frame;

    public UnaryRequestContent(ReadOnlyMemory<byte> frame)
    {
        _frame = frame;
        Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        await stream.WriteAsync(_frame, cancellationToken).ConfigureAwait(false);

    protected override bool TryComputeLength(out long length)
    {
        // No content-length: gRPC bodies are delimited by the end of the HTTP/2 stream.
        length = 0;
        return false;
    }
}
