namespace Streams.Rpc.Server;

/// <summary>Collects the methods of services: one call per RPC, whatever its kind.</summary>
public sealed class RpcServiceBinder
{
    private readonly List<ServerMethod> _methods = [];

    internal IReadOnlyList<ServerMethod> Methods => _methods;

    /// <summary>Binds a unary method.</summary>
    public void AddUnary<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TRequest, ServerCallContext, Task<TResponse>> handler) =>
        Add(method, MethodType.Unary, new UnaryServerMethod<TRequest, TResponse>(method, handler));

    /// <summary>Binds a server-streaming method.</summary>
    public void AddServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler) =>
        Add(method, MethodType.ServerStreaming, new ServerStreamingServerMethod<TRequest, TResponse>(method, handler));

    /// <summary>Binds a client-streaming method.</summary>
    public void AddClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>> handler) =>
        Add(method, MethodType.ClientStreaming, new ClientStreamingServerMethod<TRequest, TResponse>(method, handler));

    /// <summary>Binds a bidirectional-streaming method.</summary>
    public void AddDuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler) =>
        Add(method, MethodType.DuplexStreaming, new DuplexStreamingServerMethod<TRequest, TResponse>(method, handler));

    private void Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, ServerMethod serverMethod)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"Method {method.Path} is {method.Type}; bind it with the matching Add call, not as {expected}.", nameof(method));
        }

        _methods.Add(serverMethod);
    }
}
