using Streams.Rpc.Client;
using Streams.Rpc.Health.V1;

namespace Streams.Rpc.Health;

/// <summary>The client of <c>grpc.health.v1.Health</c>.</summary>
public sealed class HealthClient(RpcChannel channel)
{
    /// <summary>Check: the status of one service now.</summary>
    public AsyncUnaryCall<HealthCheckResponse> CheckAsync(HealthCheckRequest request, CallOptions options = default) =>
        channel.UnaryCall(HealthMethods.Check, request, options);

    /// <summary>Watch: the status of one service, now and at every change.</summary>
    public AsyncServerStreamingCall<HealthCheckResponse> Watch(HealthCheckRequest request, CallOptions options = default) =>
        channel.ServerStreamingCall(HealthMethods.Watch, request, options);
}
