using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;

namespace Streams.Rpc.Client;

/// <summary>
/// A client's connection to one gRPC server address. Calls are multiplexed over HTTP/2
/// connections of the underlying handler, which opens more connections when one runs out of
/// streams and pings idle ones. Thread-safe; make one per address and reuse it.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    private readonly bool _ownsInvoker;
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    private RpcChannel(Uri address, RpcChannelOptions options)
    {
        options.Validate();
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"A channel address must be http:// (cleartext HTTP/2) or https:// (TLS); got '{address}'.", nameof(address));
        }

        Address = address;
        Options = options;
        _ownsInvoker = options.HttpHandler is null;
        Invoker = new HttpMessageInvoker(options.HttpHandler ?? CreateHttpHandler(options), disposeHandler: _ownsInvoker);
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>The channel's settings.</summary>
    public RpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker { get; }

    /// <summary>The request URI of a method path, built once per path rather than once per call.</summary>
    internal Uri UriOf(string path) => _uris.GetOrAdd(path, static (p, address) => new Uri(address, p), Address);

    /// <summary>Creates a channel to <paramref name="address"/>, such as <c>http://127.0.0.1:7400</c>.</summary>
    public static RpcChannel ForAddress(string address, RpcChannelOptions? options = null) =>
        ForAddress(new Uri(address, UriKind.Absolute), options);

    /// <summary>Creates a channel to <paramref name="address"/>.</summary>
    public static RpcChannel ForAddress(Uri address, RpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new RpcChannel(address, options ?? new RpcChannelOptions());
    }

    /// <summary>
    /// An HTTP/2 handler suited to gRPC, to share between channels through
    /// <see cref="RpcChannelOptions.HttpHandler"/>: several connections when streams run out,
    /// keepalive pings, no idle timeout, no automatic decompression.
    /// </summary>
    public static SocketsHttpHandler CreateHttpHandler(RpcChannelOptions? options = null)
    {
        options ??= new RpcChannelOptions();
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            InitialHttp2StreamWindowSize = 1024 * 1024,
        };
        if (options.SslOptions is { } ssl)
        {
            handler.SslOptions = ssl;
        }

        handler.SslOptions.ApplicationProtocols ??= [SslApplicationProtocol.Http2];
        return handler;
    }

    /// <summary>Starts a unary call.</summary>
    public AsyncUnaryCall<TResponse> UnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = NewCall(method, MethodType.Unary, options);
        call.Start(request);
        return new AsyncUnaryCall<TResponse>(call, call.ReadSingleAsync());
    }

    /// <summary>Starts a server-streaming call.</summary>
    public AsyncServerStreamingCall<TResponse> ServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = NewCall(method, MethodType.ServerStreaming, options);
        call.Start(request);
        return new AsyncServerStreamingCall<TResponse>(call, new ClientResponseStream<TRequest, TResponse>(call));
    }

    /// <summary>Starts a client-streaming call.</summary>
    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = NewCall(method, MethodType.ClientStreaming, options);
        call.StartStreaming();
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, new ClientRequestStream<TRequest, TResponse>(call), call.ReadSingleAsync());
    }

    /// <summary>Starts a bidirectional-streaming call.</summary>
    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = NewCall(method, MethodType.DuplexStreaming, options);
        call.StartStreaming();
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, new ClientRequestStream<TRequest, TResponse>(call), new ClientResponseStream<TRequest, TResponse>(call));
    }

    /// <summary>Closes the channel's connections, unless its handler is shared.</summary>
    public void Dispose()
    {
        if (_ownsInvoker)
        {
            Invoker.Dispose();
        }
    }

    private ClientCall<TRequest, TResponse> NewCall<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, CallOptions options)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"Method {method.Path} is {method.Type}; it cannot be called as {expected}.", nameof(method));
        }

        return new ClientCall<TRequest, TResponse>(this, method, options);
    }
}
