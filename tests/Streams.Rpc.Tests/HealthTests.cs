using Microsoft.Extensions.DependencyInjection;
using Streams.Rpc.Client;
using Streams.Rpc.Health;
using Streams.Rpc.Health.V1;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Rpc.Tests;

/// <summary>grpc.health.v1.Health, served by every server.</summary>
public sealed class HealthTests(RpcServerFixture fixture) : IClassFixture<RpcServerFixture>, IDisposable
{
    private readonly RpcChannel _channel = RpcChannel.ForAddress(fixture.Server.Address);

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task The_server_as_a_whole_is_serving()
    {
        var response = await new HealthClient(_channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task An_unknown_service_is_NOT_FOUND()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new HealthClient(_channel).CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Watch_reports_the_current_status_and_every_change()
    {
        var registry = fixture.Server.Services.GetRequiredService<HealthStatusRegistry>();
        using var watch = new HealthClient(_channel).Watch(new HealthCheckRequest { Service = "streams.v1.Streams" }, new CallOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(30) });

        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.ServiceUnknown, watch.ResponseStream.Current.Status);

        registry.SetStatus("streams.v1.Streams", ServingStatus.Serving);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        registry.SetStatus("streams.v1.Streams", ServingStatus.NotServing);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
    }
}
