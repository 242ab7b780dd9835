using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Rpc.Framing;

namespace Streams.Rpc.Server;

/// <summary>
/// Routes gRPC requests (<c>POST /service/method</c>) to bound methods and turns their outcome
/// into a gRPC status. Requests that are not gRPC are left to the rest of the HTTP pipeline.
/// </summary>
public sealed partial class RpcRequestDispatcher
{
    private readonly FrozenDictionary<string, ServerMethod> _methods;
    private readonly FrozenSet<string> _services;
    private readonly RpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly RpcServerTelemetry _telemetry;

    /// <summary>Creates a dispatcher over every registered service.</summary>
    public RpcRequestDispatcher(IEnumerable<IRpcService> services, IOptions<RpcServerOptions> options, ILogger<RpcRequestDispatcher> logger, TimeProvider timeProvider, RpcServerTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _timeProvider = timeProvider;
        _telemetry = telemetry;
        var binder = new RpcServiceBinder();
        foreach (var service in services)
        {
            service.Bind(binder);
        }

        var methods = new Dictionary<string, ServerMethod>(StringComparer.Ordinal);
        foreach (var method in binder.Methods)
        {
            if (!methods.TryAdd(method.Path, method))
            {
                throw new InvalidOperationException($"Two services bind the method {method.Path}; each path may be bound once.");
            }
        }

        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal);
        _services = methods.Keys.Select(ServiceOf).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The bound method paths.</summary>
    public IEnumerable<string> MethodPaths => _methods.Keys;

    /// <summary>True when the request is for gRPC: a bound path, or a gRPC content type.</summary>
    public bool Accepts(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _methods.ContainsKey(context.Request.Path.Value ?? string.Empty) || GrpcProtocol.IsGrpcContentType(context.Request.ContentType);
    }

    /// <summary>Serves one gRPC call.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            // gRPC is defined over HTTP/2 only; 426 tells an HTTP/1.x client what to change.
            await RefuseAsync(context, StatusCodes.Status426UpgradeRequired, $"gRPC needs HTTP/2; this request came over {request.Protocol}. Use an HTTP/2 client (h2c or TLS with ALPN h2).").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, $"gRPC calls use POST; this request used {request.Method}.").ConfigureAwait(false);
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            // The spec asks for 415 so that a non-gRPC client does not mistake a 200 for success.
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, $"gRPC requests need content-type application/grpc; this one had '{request.ContentType}'.").ConfigureAwait(false);
            return;
        }

        if (!_methods.TryGetValue(path, out var method))
        {
            var detail = _services.Contains(ServiceOf(path))
                ? $"Method '{path}' is not implemented by this server."
                : $"Service '{ServiceOf(path)}' is not implemented by this server (request path '{path}').";
            LogUnimplemented(path);
            WriteTrailersOnly(context.Response, new RpcStatus(StatusCode.Unimplemented, detail));
            return;
        }

        TimeSpan? timeout = null;
        var timeoutHeader = request.Headers["grpc-timeout"].ToString();
        if (timeoutHeader.Length > 0)
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                WriteTrailersOnly(context.Response, new RpcStatus(StatusCode.Internal, $"The grpc-timeout header '{timeoutHeader}' is malformed: it must be 1 to 8 digits and a unit of H, M, S, m, u or n."));
                return;
            }

            timeout = parsed;
        }

        var encoding = request.Headers["grpc-encoding"].ToString();
        if (!MessageCompression.IsSupported(encoding))
        {
            context.Response.Headers["grpc-accept-encoding"] = MessageCompression.AcceptEncodingValue;
            WriteTrailersOnly(context.Response, new RpcStatus(StatusCode.Unimplemented, $"This server cannot decode grpc-encoding '{encoding}'; it accepts {MessageCompression.AcceptEncodingValue}."));
            return;
        }

        // A gRPC stream may carry any number of messages: the HTTP body size limit does not apply.
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var metadata = new Metadata();
        foreach (var header in request.Headers)
        {
            MetadataHeaders.AddReceived(metadata, header.Key, header.Value);
        }

        var acceptsGzip = MessageCompression.AcceptsGzip(request.Headers["grpc-accept-encoding"].ToString());
        var compress = _options.ResponseCompression switch
        {
            ResponseCompressionMode.WhenAccepted => acceptsGzip,
            ResponseCompressionMode.WhenRequestCompressed => acceptsGzip && encoding == MessageCompression.Gzip,
            _ => false,
        };

        if (timeout is not { } limit)
        {
            var call = new ServerCallContext(context, path, _options, metadata, DateTimeOffset.MaxValue, encoding, compress, context.RequestAborted, CancellationToken.None);
            await RunAsync(method, call).ConfigureAwait(false);
            return;
        }

        // The deadline and the client's disconnection both cancel the handler.
        using var deadline = new CancellationTokenSource(limit, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token);
        var timedCall = new ServerCallContext(context, path, _options, metadata, _timeProvider.GetUtcNow() + limit, encoding, compress, linked.Token, deadline.Token);
        await RunAsync(method, timedCall).ConfigureAwait(false);
    }

    private async Task RunAsync(ServerMethod method, ServerCallContext call)
    {
        var started = _timeProvider.GetTimestamp();
        var headers = call.HttpContext.Request.Headers;
        var activity = _telemetry.StartCall(call.Method, headers.TraceParent.FirstOrDefault(), headers.TraceState.FirstOrDefault());
        var code = StatusCode.Cancelled;
        try
        {
            code = await InvokeAsync(method, call).ConfigureAwait(false);
        }
        finally
        {
            _telemetry.EndCall(activity, call.Method, code, _timeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>Runs the method and sends its status; returns that status (CANCELLED when the client left).</summary>
    private async Task<StatusCode> InvokeAsync(ServerMethod method, ServerCallContext call)
    {
        RpcStatus status;
        Metadata? trailers = null;
        try
        {
            await method.InvokeAsync(call).ConfigureAwait(false);
            status = call.DeadlineExceeded ? DeadlineStatus() : call.Status;
        }
        catch (Exception) when (call.DeadlineExceeded)
        {
            status = DeadlineStatus();
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                LogDeadlineExceeded(call.Method, call.Peer);
            }

        }
        catch (Exception ex) when (call.ClientGone)
        {
            // Nobody is left to receive a status; the stream is already reset.
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                LogClientCancelled(ex, call.Method, call.Peer);
            }

            return StatusCode.Cancelled;
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            trailers = ex.Trailers;
            if (ex.StatusCode is StatusCode.Internal or StatusCode.ResourceExhausted or StatusCode.Unknown)
            {
                LogCallFailed(call.Method, call.Peer, ex.StatusCode, ex.Status.Detail);
            }
        }
        catch (Exception ex)
        {
            LogHandlerThrew(ex, call.Method);
            status = new RpcStatus(StatusCode.Unknown, _options.IncludeExceptionDetails
                ? $"The service method threw {ex.GetType().Name}: {ex.Message}"
                : "The service method threw an unexpected exception; the server log has the details.");
        }

        call.Complete(status, trailers);
        return status.Code;
    }

    private static RpcStatus DeadlineStatus() => new(StatusCode.DeadlineExceeded, "Deadline exceeded: the call's grpc-timeout passed before the server finished.");

    /// <summary>Writes a response with no messages whose headers carry the status and end the stream.</summary>
    private static void WriteTrailersOnly(HttpResponse response, RpcStatus status)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        ServerCallContext.SetStatus(response.Headers, status);
    }

    private async Task RefuseAsync(HttpContext context, int httpStatus, string reason)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            LogRefused(context.Request.Protocol, context.Request.Method, context.Request.Path.Value ?? string.Empty, reason);
        }

        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(reason + "\n", context.RequestAborted).ConfigureAwait(false);
    }

    private static string ServiceOf(string path)
    {
        var trimmed = path.AsSpan().TrimStart('/');
        var slash = trimmed.IndexOf('/');
        return slash < 0 ? trimmed.ToString() : trimmed[..slash].ToString();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Service method {Method} threw an unexpected exception")]
    private partial void LogHandlerThrew(Exception exception, string method);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Call {Method} from {Peer} failed with {Code}: {Detail}")]
    private partial void LogCallFailed(string method, string peer, StatusCode code, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Call {Method} from {Peer} was cancelled by the client")]
    private partial void LogClientCancelled(Exception exception, string method, string peer);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Call {Method} from {Peer} exceeded its deadline")]
    private partial void LogDeadlineExceeded(string method, string peer);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Refused {Protocol} {HttpMethod} {Path}: {Reason}")]
    private partial void LogRefused(string protocol, string httpMethod, string path, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Unimplemented method {Path}")]
    private partial void LogUnimplemented(string path);
}
