namespace Streams.Rpc.Server;

/// <summary>A gRPC service: it binds each of its methods to a handler.</summary>
public interface IRpcService
{
    /// <summary>Adds this service's methods to <paramref name="binder"/>.</summary>
    void Bind(RpcServiceBinder binder);
}
