namespace Streams.Rpc.Server;

/// <summary>Small pieces shared by service base classes.</summary>
public static class RpcServices
{
    /// <summary>The error a service base class throws for a method its subclass did not implement.</summary>
    public static RpcException Unimplemented(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RpcException(StatusCode.Unimplemented, $"Method '{context.Method}' is not implemented by this server.");
    }
}
