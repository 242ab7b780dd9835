using Streams.Rpc.Health.V1;

namespace Streams.Rpc.Health;

/// <summary>The methods of <c>grpc.health.v1.Health</c>.</summary>
public static class HealthMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "grpc.health.v1.Health";

    /// <summary>Check: the status of one service now.</summary>
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = Method.Protobuf<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, ServiceName, "Check");

    /// <summary>Watch: the status of one service, now and at every change.</summary>
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = Method.Protobuf<HealthCheckRequest, HealthCheckResponse>(MethodType.ServerStreaming, ServiceName, "Watch");
}
