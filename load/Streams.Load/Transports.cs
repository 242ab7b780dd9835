using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Google.Protobuf;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Rpc.Interop;
using Streams.Testing.V1;

namespace Streams.Load;

/// <summary>Payload bytes one stream worker has received; written by that worker only, read after it finished.</summary>
internal sealed class StreamTally
{
    public long Bytes;

    /// <summary>When the last payload was counted (a <see cref="Stopwatch"/> timestamp).</summary>
    public long LastTimestamp;
}

/// <summary>How the benchmark talks to the server: our gRPC client, or a plain HTTP/2 client.</summary>
internal abstract class Transport(LoadSettings settings) : IDisposable
{
    protected LoadSettings Settings { get; } = settings;

    public abstract string Name { get; }

    public int UnaryPayloadBytes => Settings.UnaryPayloadBytes;

    /// <summary>One unary call of the configured payload; throws when it fails or the answer is wrong.</summary>
    public abstract Task UnaryAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One stream of <paramref name="count"/> messages of <paramref name="size"/> bytes, counting payload bytes
    /// into <paramref name="tally"/> as they arrive; stops early (cancelling the stream) once
    /// <paramref name="stopAt"/> (a <see cref="Stopwatch"/> timestamp) has passed.
    /// </summary>
    public abstract Task StreamAsync(int count, int size, long stopAt, StreamTally tally, CancellationToken cancellationToken);

    public abstract void Dispose();
}

/// <summary>Streams.Rpc: <see cref="RpcChannel"/> and the Interop service.</summary>
internal sealed class GrpcTransport : Transport
{
    private readonly RpcChannel _channel;
    private readonly EchoRequest _unaryRequest;
    private readonly Method<EchoRequest, EchoResponse> _unary;
    private readonly Method<EchoRequest, EchoResponse> _serverStream;

    /// <summary>A client of the Interop service.</summary>
    public GrpcTransport(Uri address, LoadSettings settings)
        : this(address, settings, "gRPC", InteropMethods.Unary, InteropMethods.ServerStream)
    {
    }

    /// <summary>A client of other methods of the same shape (rpc-breakdown's hand-written server).</summary>
    public GrpcTransport(Uri address, LoadSettings settings, string name, Method<EchoRequest, EchoResponse> unary, Method<EchoRequest, EchoResponse> serverStream)
        : base(settings)
    {
        Name = name;
        _unary = unary;
        _serverStream = serverStream;
        _channel = RpcChannel.ForAddress(address);
        var payload = new byte[settings.UnaryPayloadBytes];
        Random.Shared.NextBytes(payload);
        _unaryRequest = new EchoRequest { Payload = ByteString.CopyFrom(payload) };
    }

    public override string Name { get; }

    public override async Task UnaryAsync(CancellationToken cancellationToken)
    {
        var options = new CallOptions { Deadline = DateTimeOffset.UtcNow + Settings.UnaryDeadline, CancellationToken = cancellationToken };
        using var call = _channel.UnaryCall(_unary, _unaryRequest, options);
        var response = await call.ResponseAsync.ConfigureAwait(false);
        if (response.Payload.Length != Settings.UnaryPayloadBytes)
        {
            throw new InvalidDataException($"The echo carried {response.Payload.Length} bytes instead of {Settings.UnaryPayloadBytes}.");
        }
    }

    public override async Task StreamAsync(int count, int size, long stopAt, StreamTally tally, CancellationToken cancellationToken)
    {
        var options = new CallOptions { Deadline = DateTimeOffset.UtcNow + Settings.StreamDeadline, CancellationToken = cancellationToken };
        using var call = _channel.ServerStreamingCall(_serverStream, new EchoRequest { ResponseCount = count, ResponseSize = size }, options);
        var responses = call.ResponseStream;
        while (await responses.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var length = responses.Current.Payload.Length;
            if (length != size)
            {
                throw new InvalidDataException($"A streamed message carried {length} bytes instead of {size}.");
            }

            tally.Bytes += length;
            var now = tally.LastTimestamp = Stopwatch.GetTimestamp();
            if (now >= stopAt)
            {
                return; // Disposing the call cancels the rest of the stream.
            }
        }
    }

    public override void Dispose() => _channel.Dispose();
}

/// <summary>
/// The baseline client: <see cref="HttpMessageInvoker"/> over a <see cref="SocketsHttpHandler"/> speaking
/// HTTP/2 with prior knowledge, set up like the gRPC channel's own handler (same stream window,
/// several connections allowed, no decompression, cookies or proxy).
/// </summary>
internal sealed class RawTransport : Transport
{
    private const int ReadBufferSize = 64 * 1024;
    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _unaryUri;
    private readonly Uri _streamUri;
    private readonly byte[] _payload;

    public RawTransport(Uri address, LoadSettings settings)
        : base(settings)
    {
        _unaryUri = new Uri(address, RawEndpoints.UnaryPath);
        _streamUri = new Uri(address, RawEndpoints.StreamPath);
        _payload = new byte[settings.UnaryPayloadBytes];
        Random.Shared.NextBytes(_payload);
        _invoker = new HttpMessageInvoker(CreateHandler(), disposeHandler: true);
    }

    public override string Name => "raw";

    /// <summary>HTTP/2 settings like those of <see cref="RpcChannel.CreateHttpHandler"/>.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        UseProxy = false,
        InitialHttp2StreamWindowSize = 1024 * 1024,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public override async Task UnaryAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.UnaryDeadline);
        using var request = NewRequest(_unaryUri, new ReadOnlyMemoryContent(_payload));
        using var response = await _invoker.SendAsync(request, deadline.Token).ConfigureAwait(false);
        CheckStatus(response);
        var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(_payload.Length + 1);
        try
        {
            var total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(Math.Min(total, _payload.Length)), deadline.Token).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            if (total != _payload.Length)
            {
                throw new InvalidDataException($"The echo carried {total} bytes instead of {_payload.Length}.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override async Task StreamAsync(int count, int size, long stopAt, StreamTally tally, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.StreamDeadline);
        var uri = new Uri(_streamUri, string.Create(CultureInfo.InvariantCulture, $"?count={count}&size={size}"));
        using var request = NewRequest(uri, new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty));
        using var response = await _invoker.SendAsync(request, deadline.Token).ConfigureAwait(false);
        CheckStatus(response);
        var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadBufferSize), deadline.Token).ConfigureAwait(false)) > 0)
            {
                total += read;
                tally.Bytes += read;
                var now = tally.LastTimestamp = Stopwatch.GetTimestamp();
                if (now >= stopAt)
                {
                    return; // Disposing the response resets the stream.
                }
            }

            if (total != (long)count * size)
            {
                throw new InvalidDataException($"The stream ended after {total} bytes instead of {(long)count * size}.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void Dispose() => _invoker.Dispose();

    private static HttpRequestMessage NewRequest(Uri uri, HttpContent content) => new(HttpMethod.Post, uri)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = content,
    };

    private static void CheckStatus(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"The raw endpoint answered HTTP {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
