using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Streams.Rpc.Framing;

namespace Streams.Rpc.Server;

/// <summary>
/// What a service method knows about its call: who called, what metadata came with it, its
/// deadline and cancellation, and the metadata and status to send back.
/// </summary>
public sealed class ServerCallContext
{
    private readonly HttpContext _http;
    private readonly RpcServerOptions _options;
    private readonly MessageReader _reader;
    private readonly CancellationToken _deadlineToken;
    private Metadata? _pendingHeaders;
    private bool _headersSent;
    private int _writing;

    internal ServerCallContext(HttpContext http, string method, RpcServerOptions options, Metadata requestHeaders, DateTimeOffset deadline, string? requestEncoding, bool compressResponses, CancellationToken callToken, CancellationToken deadlineToken)
    {
        _http = http;
        _options = options;
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = callToken;
        _deadlineToken = deadlineToken;
        CompressResponses = compressResponses;
        _reader = new MessageReader(http.Request.BodyReader, options.MaxReceiveMessageSizeBytes, string.IsNullOrEmpty(requestEncoding) ? null : requestEncoding);
    }

    /// <summary>The full method path, <c>/service/method</c>.</summary>
    public string Method { get; }

    /// <summary>The client's address and port.</summary>
    public string Peer => $"{_http.Connection.RemoteIpAddress}:{_http.Connection.RemotePort}";

    /// <summary>The custom metadata the client sent.</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>When the client stops waiting; <see cref="DateTimeOffset.MaxValue"/> without a deadline.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>Cancelled when the client goes away or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Metadata to send in the trailers, beside the status.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The status to end the call with when the method returns normally.</summary>
    public RpcStatus Status { get; set; } = RpcStatus.Ok;

    /// <summary>The underlying HTTP context, for what the gRPC abstraction does not cover (TLS, user).</summary>
    public HttpContext HttpContext => _http;

    internal bool CompressResponses { get; }

    internal bool DeadlineExceeded => _deadlineToken.IsCancellationRequested;

    internal bool ClientGone => _http.RequestAborted.IsCancellationRequested;

    /// <summary>
    /// Sends the response headers with <paramref name="headers"/> now. Optional: headers go out with
    /// the first message otherwise. At most once, before any message.
    /// </summary>
    public async Task WriteResponseHeadersAsync(Metadata headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (_headersSent || _pendingHeaders is not null)
        {
            throw new InvalidOperationException("Response headers were already sent; they can be written only once, before the first message.");
        }

        _pendingHeaders = headers;
        EnsureHeaders();
        await _http.Response.StartAsync(CancellationToken).ConfigureAwait(false);
        await _http.Response.BodyWriter.FlushAsync(CancellationToken).ConfigureAwait(false);
    }

    internal ValueTask<(bool HasMessage, T Message)> ReadMessageAsync<T>(Marshaller<T> marshaller, CancellationToken cancellationToken) =>
        _reader.ReadAsync(marshaller, cancellationToken);

    internal async Task WriteMessageAsync<T>(T message, Marshaller<T> marshaller, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            throw new InvalidOperationException("A write is already in progress; await each WriteAsync before starting the next.");
        }

        try
        {
            if (DeadlineExceeded)
            {
                throw new RpcException(StatusCode.DeadlineExceeded, "The call's deadline passed; no more responses can be sent.");
            }

            CancellationToken.ThrowIfCancellationRequested();
            EnsureHeaders();
            var writer = _http.Response.BodyWriter;
            MessageFraming.Write(writer, message, marshaller, _options.MaxSendMessageSizeBytes, CompressResponses);
            var token = cancellationToken.CanBeCanceled ? cancellationToken : CancellationToken;
            FlushResult flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled)
            {
                throw new OperationCanceledException(token);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>Ends the call: status and trailers, or a trailers-only response when nothing was sent.</summary>
    internal void Complete(RpcStatus status, Metadata? extraTrailers)
    {
        var response = _http.Response;
        if (!response.HasStarted)
        {
            // Trailers-only: one HEADERS frame carrying the status, ending the stream.
            EnsureHeaders();
            SetStatus(response.Headers, status);

            AppendMetadata(response.Headers, ResponseTrailers);
            if (extraTrailers is not null)
            {
                AppendMetadata(response.Headers, extraTrailers);
            }

            return;
        }

        response.AppendTrailer("grpc-status", ((int)status.Code).ToString(CultureInfo.InvariantCulture));
        if (status.Detail.Length > 0)
        {
            response.AppendTrailer("grpc-message", GrpcMessageText.Encode(status.Detail));
        }

        foreach (var entry in extraTrailers is null ? ResponseTrailers : ResponseTrailers.Concat(extraTrailers))
        {
            response.AppendTrailer(entry.Key, MetadataHeaders.ToHeaderValue(entry));
        }
    }

    /// <summary>Puts the status in a header block: the trailers, or the headers of a trailers-only response.</summary>
    internal static void SetStatus(IHeaderDictionary headers, RpcStatus status)
    {
        headers["grpc-status"] = ((int)status.Code).ToString(CultureInfo.InvariantCulture);
        if (status.Detail.Length > 0)
        {
            headers["grpc-message"] = GrpcMessageText.Encode(status.Detail);
        }
    }

    private void EnsureHeaders()
    {
        if (_headersSent)
        {
            return;
        }

        _headersSent = true;
        var response = _http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers["grpc-accept-encoding"] = MessageCompression.AcceptEncodingValue;
        if (CompressResponses)
        {
            response.Headers["grpc-encoding"] = MessageCompression.Gzip;
        }

        if (_pendingHeaders is not null)
        {
            AppendMetadata(response.Headers, _pendingHeaders);
        }
    }

    private static void AppendMetadata(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, MetadataHeaders.ToHeaderValue(entry));
        }
    }
}
