using Streams.Rpc.Health.V1;
using Streams.Rpc.Server;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Rpc.Health;

/// <summary>Answers health checks from the <see cref="HealthStatusRegistry"/>.</summary>
public sealed class HealthService(HealthStatusRegistry registry) : HealthServiceBase
{
    /// <inheritdoc />
    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var status = registry.GetStatus(request.Service)
            ?? throw new RpcException(StatusCode.NotFound, $"No health status is known for service '{request.Service}'.");
        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    /// <inheritdoc />
    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);
        ServingStatus? last = null;
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var (status, changed) = registry.Observe(request.Service);
            var current = status ?? ServingStatus.ServiceUnknown;
            if (current != last)
            {
                await responses.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken).ConfigureAwait(false);
                last = current;
            }

            await changed.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        }
    }
}
