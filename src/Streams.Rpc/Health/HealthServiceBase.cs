using Streams.Rpc.Health.V1;
using Streams.Rpc.Server;

namespace Streams.Rpc.Health;

/// <summary>The server side of <c>grpc.health.v1.Health</c>; unimplemented methods answer UNIMPLEMENTED.</summary>
public abstract class HealthServiceBase : IRpcService
{
    /// <summary>Check: the status of one service now.</summary>
    public virtual Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        throw RpcServices.Unimplemented(context);

    /// <summary>Watch: the status of one service, now and at every change.</summary>
    public virtual Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responses, ServerCallContext context) =>
        throw RpcServices.Unimplemented(context);

    /// <inheritdoc />
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(HealthMethods.Check, Check);
        binder.AddServerStreaming(HealthMethods.Watch, Watch);
    }
}
