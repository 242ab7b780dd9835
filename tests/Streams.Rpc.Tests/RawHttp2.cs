using System.Net;
using Streams.Rpc.Client;

namespace Streams.Rpc.Tests;

/// <summary>
/// Sends hand-made gRPC requests over HTTP/2 with HttpClient, bypassing our client, so tests can
/// put exactly the bytes and headers they want on the wire.
/// </summary>
public sealed class RawHttp2 : IDisposable
{
    private readonly HttpMessageInvoker _invoker = new(RpcChannel.CreateHttpHandler(), disposeHandler: true);

    public async Task<RawResponse> SendAsync(Uri server, string path, byte[] body, string contentType = "application/grpc", IDictionary<string, string>? headers = null, HttpMethod? method = null, Version? version = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, new Uri(server, path))
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.TryAddWithoutValidation("content-type", contentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }

        using var response = await _invoker.SendAsync(request, cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new RawResponse(response.StatusCode, Flatten(response.Headers), Flatten(response.TrailingHeaders), content);
    }

    public void Dispose() => _invoker.Dispose();

    private static Dictionary<string, string> Flatten(System.Net.Http.Headers.HttpHeaders headers) =>
        headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
}

public sealed record RawResponse(HttpStatusCode Status, Dictionary<string, string> Headers, Dictionary<string, string> Trailers, byte[] Body)
{
    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    public string? GrpcStatus => Trailers.GetValueOrDefault("grpc-status") ?? Headers.GetValueOrDefault("grpc-status");

    public string? GrpcMessage => Trailers.GetValueOrDefault("grpc-message") ?? Headers.GetValueOrDefault("grpc-message");
}
