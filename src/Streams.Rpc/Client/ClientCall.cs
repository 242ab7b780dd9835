using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Streams.Rpc.Framing;

namespace Streams.Rpc.Client;

/// <summary>
/// One client call over HTTP/2: sends the request headers and messages, reads the response
/// headers, messages and trailers, and turns every way a call can end (status, deadline,
/// cancellation, broken connection) into one <see cref="RpcStatus"/>.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientCall
{
    private const string UserAgent = "streams-rpc-dotnet/1.0";
    private const int MaxTransparentRetries = 10;

    // Read the response in 64 KiB pooled blocks: the default 4 KiB takes 16 reads per 64 KiB message.
    private static readonly StreamPipeReaderOptions _responseReadOptions = new(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024);

    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private CancellationTokenRegistration _userRegistration;
    private ITimer? _deadlineTimer;
    private Task<HttpResponseMessage>? _response;
    private StreamingRequestContent? _requestStream;
    private MessageReader? _reader;
    private RpcStatus? _status;
    private Metadata? _trailers;
    // Why this side ended the call (Cancelled or DeadlineExceeded); OK while it has not.
    private StatusCode _localEnd;
    private int _writing;
    private bool _requestCompleted;
    private bool _writeStarted;
    private string? _encoding;
    private HttpResponseMessage? _httpResponse;

    public ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
    }

    private bool Compress => _options.CompressRequests ?? _channel.Options.CompressRequests;

    /// <summary>Starts a call with one request message (unary, server streaming).</summary>
    public void Start(TRequest request)
    {
        // An exact array, not a pooled one: HttpClient may still be reading the body when the call
        // ends, so no moment is safe to hand a pooled buffer back.
        var frame = new ArrayBufferWriter<byte>(MessageFraming.HeaderLength + 256);
        try
        {
            MessageFraming.Write(frame, request, _method.RequestMarshaller, _channel.Options.MaxSendMessageSizeBytes, Compress);
        }
        catch (RpcException ex)
        {
            // Too large to send: the call fails without reaching the server, like any other failure.
            FailBeforeSending(ex.Status);
            return;
        }

        var body = frame.WrittenMemory;
        Send(() => new UnaryRequestContent(body));
    }

    /// <summary>Starts a call whose requests the caller streams (client streaming, duplex).</summary>
    public void StartStreaming()
    {
        _requestStream = new StreamingRequestContent();
        Send(() =>
        {
            lock (_lock)
            {
                // A retry needs a fresh body; it is only attempted before the first write.
                if (_requestStream.RequestStream.IsCompleted)
                {
                    _requestStream.Abort();
                    _requestStream = new StreamingRequestContent();
                }

                return _requestStream;
            }
        });
    }

    private void Send(Func<HttpContent> body)
    {
        if (_options.Deadline is { } deadline)
        {
            var remaining = deadline - _channel.Options.TimeProvider.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                _localEnd = StatusCode.DeadlineExceeded;
                FailBeforeSending(new RpcStatus(StatusCode.DeadlineExceeded, "Deadline exceeded before the call was sent."));
                return;
            }

            _deadlineTimer = _channel.Options.TimeProvider.CreateTimer(static state => ((ClientCall<TRequest, TResponse>)state!).OnDeadline(), this, remaining, Timeout.InfiniteTimeSpan);
        }

        if (_options.CancellationToken.CanBeCanceled)
        {
            _userRegistration = _options.CancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).Cancel(), this);
        }

        _response = SendAsync(body);
    }

    private void FailBeforeSending(RpcStatus status)
    {
        // Finish faults the response headers too, as it does for every status but OK.
        Finish(status, null);
        _response = Task.FromException<HttpResponseMessage>(new RpcException(status));
    }

    private HttpRequestMessage CreateRequest(HttpContent content)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, _channel.UriOf(_method.Path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = message.Headers;
        headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        headers.TryAddWithoutValidation("user-agent", UserAgent);
        headers.TryAddWithoutValidation("grpc-accept-encoding", MessageCompression.AcceptEncodingValue);
        if (Compress)
        {
            headers.TryAddWithoutValidation("grpc-encoding", MessageCompression.Gzip);
        }

        if (_options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, MetadataHeaders.ToHeaderValue(entry));
            }
        }

        if (_options.Deadline is { } deadline)
        {
            headers.TryAddWithoutValidation("grpc-timeout", GrpcTimeout.Format(deadline - _channel.Options.TimeProvider.GetUtcNow()));
        }

        return message;
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpContent> body)
    {
        HttpResponseMessage response;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                response = await _channel.Invoker.SendAsync(CreateRequest(body()), _abort.Token).ConfigureAwait(false);
                _httpResponse = response;
                break;
            }
            catch (Exception ex) when (attempt < MaxTransparentRetries && IsRefusedStream(ex) && CanResend())
            {
                // REFUSED_STREAM means the server processed nothing (typically: more streams than
                // its limit before its SETTINGS arrived), so sending again is safe. A short, growing
                // pause lets the server's SETTINGS and finished streams free room first; the call's
                // deadline and cancellation still bound it.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(attempt * 5), _channel.Options.TimeProvider, _abort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException cancelled)
                {
                    throw Fail(cancelled);
                }
            }
            catch (Exception ex)
            {
                throw Fail(ex);
            }
        }

        try
        {
            ReadResponseHeaders(response);
            return response;
        }
        catch (Exception ex)
        {
            response.Dispose();
            throw Fail(ex);
        }
    }

    private bool CanResend()
    {
        lock (_lock)
        {
            return _status is null && !_abort.IsCancellationRequested && !_writeStarted;
        }
    }

    private static bool IsRefusedStream(Exception ex)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException { ErrorCode: 0x7 })
            {
                return true;
            }
        }

        return false;
    }

    private void ReadResponseHeaders(HttpResponseMessage response)
    {
        // Non-validated access: parsing every header (date, server...) on every call costs more
        // than the rest of the call's header handling.
        var headers = response.Headers.NonValidated;
        var metadata = ReceivedMetadata(headers);
        var grpcStatus = FirstHeader(headers, "grpc-status");
        if (response.StatusCode != HttpStatusCode.OK && grpcStatus is null)
        {
            throw new RpcException(HttpStatusMapping.ToStatusCode(response.StatusCode), $"The server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} instead of a gRPC response.");
        }

        if (grpcStatus is not null)
        {
            // Trailers-only: the headers carry the status and the call is over.
            _headers.TrySetResult(metadata);
            Finish(ParseStatus(grpcStatus, FirstHeader(headers, "grpc-message")), metadata);
            return;
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            throw new RpcException(StatusCode.Internal, $"The server answered content-type '{contentType}', which is not a gRPC response.");
        }

        var encoding = FirstHeader(headers, "grpc-encoding");
        if (!MessageCompression.IsSupported(encoding))
        {
            throw new RpcException(StatusCode.Internal, $"The server compressed its response with '{encoding}', which this client cannot decode.");
        }

        _encoding = string.IsNullOrEmpty(encoding) ? null : encoding;
        _headers.TrySetResult(metadata);
    }


    /// <summary>The response headers' custom metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    /// <summary>Reads the next response message; (false, default) when the call ended with OK.</summary>
    /// <exception cref="RpcException">The call ended with another status.</exception>
    public async ValueTask<(bool HasMessage, TResponse Message)> ReadAsync(CancellationToken cancellationToken)
    {
        var response = await _response!.ConfigureAwait(false);
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).Cancel(), this)
            : default;
        try
        {
            if (_status is null)
            {
                _reader ??= new MessageReader(PipeReader.Create(await response.Content.ReadAsStreamAsync(_abort.Token).ConfigureAwait(false), _responseReadOptions), _channel.Options.MaxReceiveMessageSizeBytes, _encoding);
                var (hasMessage, message) = await _reader.ReadAsync(_method.ResponseMarshaller, _abort.Token).ConfigureAwait(false);
                if (hasMessage)
                {
                    return (true, message);
                }

                ReadTrailers(response);
            }
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        var status = _status!.Value;
        if (status.Code != StatusCode.OK)
        {
            throw new RpcException(status, _trailers);
        }

        return (false, default!);
    }

    /// <summary>Reads the single response of a unary or client-streaming call.</summary>
    public async Task<TResponse> ReadSingleAsync()
    {
        var (hasMessage, message) = await ReadAsync(CancellationToken.None).ConfigureAwait(false);
        if (!hasMessage)
        {
            throw Fail(new RpcException(StatusCode.Internal, $"{_method.Path} ended with OK but sent no response message."));
        }

        var (hasAnother, _) = await ReadAsync(CancellationToken.None).ConfigureAwait(false);
        if (hasAnother)
        {
            throw Fail(new RpcException(StatusCode.Internal, $"{_method.Path} sent more than one response message."));
        }

        return message;
    }

    /// <summary>Writes one request message to the request stream.</summary>
    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        if (_requestCompleted)
        {
            throw new InvalidOperationException("The request stream is already completed; no more messages can be written.");
        }

        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            throw new InvalidOperationException("A write is already in progress; await each WriteAsync before starting the next.");
        }

        try
        {
            ThrowIfFinished();
            lock (_lock)
            {
                _writeStarted = true;
            }

            using var frame = new PooledBufferWriter();
            MessageFraming.Write(frame, message, _method.RequestMarshaller, _channel.Options.MaxSendMessageSizeBytes, Compress);
            using var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).Cancel(), this)
                : default;
            try
            {
                var stream = await _requestStream!.RequestStream.WaitAsync(_abort.Token).ConfigureAwait(false);
                await stream.WriteAsync(frame.WrittenMemory, _abort.Token).ConfigureAwait(false);
                await stream.FlushAsync(_abort.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A failed write does not decide the call's status: the server may have ended the
                // call, and reading the response shows its real status.
                if (_status is { } status)
                {
                    throw new RpcException(status, _trailers, ex);
                }

                throw new RpcException(Map(ex).Status, null, ex);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>Half-closes the request stream.</summary>
    public Task CompleteRequestAsync()
    {
        _requestCompleted = true;
        _requestStream?.Complete();
        return Task.CompletedTask;
    }

    /// <summary>The status, once the call has ended.</summary>
    public RpcStatus GetStatus() => _status ?? throw new InvalidOperationException("The call has not ended yet: read its response to the end first.");

    /// <summary>The trailers, once the call has ended.</summary>
    public Metadata GetTrailers() => _status is null
        ? throw new InvalidOperationException("The call has not ended yet: read its response to the end first.")
        : _trailers ?? new Metadata();

    /// <summary>Cancels the call (the server sees RST_STREAM CANCEL).</summary>
    public void Cancel() => EndLocally(StatusCode.Cancelled);

    public void Dispose()
    {
        Cancel();
        _userRegistration.Dispose();
        _deadlineTimer?.Dispose();
        _httpResponse?.Dispose();

        _abort.Dispose();
    }

    private void OnDeadline() => EndLocally(StatusCode.DeadlineExceeded);

    /// <summary>Ends a call that has no status yet from this side: the deadline, or the caller.</summary>
    private void EndLocally(StatusCode reason)
    {
        lock (_lock)
        {
            if (_status is not null || _localEnd != StatusCode.OK)
            {
                return;
            }

            _localEnd = reason;
        }

        Abort();
    }

    private void Abort()
    {
        _requestStream?.Abort();
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: the call is over.
        }
    }

    private void ThrowIfFinished()
    {
        if (_status is { } status)
        {
            throw new RpcException(status.Code == StatusCode.OK
                ? new RpcStatus(StatusCode.Internal, "The call has already completed; no more messages can be written.")
                : status, _trailers);
        }
    }

    private void ReadTrailers(HttpResponseMessage response)
    {
        var trailers = response.TrailingHeaders.NonValidated;
        var metadata = ReceivedMetadata(trailers);

        var grpcStatus = FirstHeader(trailers, "grpc-status");
        Finish(grpcStatus is null
            ? new RpcStatus(StatusCode.Internal, "The server ended the response without a grpc-status trailer.")
            : ParseStatus(grpcStatus, FirstHeader(trailers, "grpc-message")), metadata);
    }

    /// <summary>Records the final status, once; later outcomes do not overwrite it.</summary>
    private void Finish(RpcStatus status, Metadata? trailers)
    {
        lock (_lock)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            _trailers = trailers;
        }

        _deadlineTimer?.Dispose();
        if (status.Code != StatusCode.OK)
        {
            _headers.TrySetException(new RpcException(status, trailers));
        }

        // The server has given its answer: stop sending. A write blocked on flow control (the
        // server stopped reading without resetting the stream) fails now with this status.
        Abort();
    }

    /// <summary>Turns any failure into the call's status and returns the exception to throw.</summary>
    private RpcException Fail(Exception ex)
    {
        var (status, trailers) = Map(ex);
        Finish(status, trailers);
        var final = _status!.Value;
        return ex is RpcException same && same.Status == final ? same : new RpcException(final, _trailers, ex);
    }

    private (RpcStatus Status, Metadata? Trailers) Map(Exception ex)
    {
        RpcStatus status;
        Metadata? trailers = null;
        if (_localEnd == StatusCode.DeadlineExceeded)
        {
            status = new RpcStatus(StatusCode.DeadlineExceeded, "Deadline exceeded: the server did not finish before the call's deadline.");
        }
        else if (_localEnd == StatusCode.Cancelled)
        {
            status = new RpcStatus(StatusCode.Cancelled, "The call was cancelled by the client.");
        }
        else
        {
            (status, trailers) = ex switch
            {
                RpcException rpc => (rpc.Status, rpc.Trailers),
                HttpProtocolException protocol => (FromHttp2Error(protocol), null),
                HttpRequestException request => (new RpcStatus(StatusCode.Unavailable, $"Could not reach {_channel.Address}: {request.Message}"), null),
                IOException io => (new RpcStatus(StatusCode.Unavailable, $"The connection to {_channel.Address} broke: {io.Message}"), null),
                OperationCanceledException => (new RpcStatus(StatusCode.Cancelled, "The call was cancelled."), null),
                _ => (new RpcStatus(StatusCode.Internal, $"The call failed: {ex.GetType().Name}: {ex.Message}"), null),
            };
        }

        return (status, trailers);
    }

    private static RpcStatus FromHttp2Error(HttpProtocolException ex) => ex.ErrorCode switch
    {
        0x7 => new RpcStatus(StatusCode.Unavailable, "The server refused the stream (REFUSED_STREAM); retrying may succeed."),
        0x8 => new RpcStatus(StatusCode.Cancelled, "The server cancelled the stream (RST_STREAM CANCEL)."),
        0xb => new RpcStatus(StatusCode.ResourceExhausted, "The server asked to slow down (ENHANCE_YOUR_CALM)."),
        0xc => new RpcStatus(StatusCode.PermissionDenied, "The connection's security is inadequate (INADEQUATE_SECURITY)."),
        _ => new RpcStatus(StatusCode.Internal, $"HTTP/2 error {ex.ErrorCode}: {ex.Message}"),
    };

    private static RpcStatus ParseStatus(string grpcStatus, string? grpcMessage)
    {
        var detail = GrpcMessageText.Decode(grpcMessage);
        return int.TryParse(grpcStatus, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code) && code is >= 0 and <= 16
            ? new RpcStatus((StatusCode)code, detail)
            : new RpcStatus(StatusCode.Unknown, $"The server sent an invalid grpc-status '{grpcStatus}'. {detail}".Trim());
    }

    private static string? FirstHeader(HttpHeadersNonValidated headers, string name)
    {
        if (headers.TryGetValues(name, out var values))
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        return null;
    }

    private static Metadata ReceivedMetadata(HttpHeadersNonValidated headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (!MetadataHeaders.IsReserved(name))
            {
                foreach (var value in values)
                {
                    MetadataHeaders.AddReceivedValue(metadata, name, value);
                }
            }
        }

        return metadata;
    }
}
