using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Streams.Rpc;
using Streams.Rpc.Server;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Tests;

/// <summary>An in-process node: its two listeners and what each serves.</summary>
public sealed class NodeTests
{
    [Fact]
    public async Task Healthz_answers_ok_over_http1_on_the_http_port()
    {
        await using var node = await TestNode.StartAsync();
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri(node.Node.HttpAddress, "/healthz"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("http", node.Node.HttpAddress.Scheme);
        Assert.NotEqual(0, node.Node.HttpAddress.Port);
    }

    [Fact]
    public async Task Grpc_health_check_answers_serving_on_the_grpc_port()
    {
        await using var node = await TestNode.StartAsync();

        Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        Assert.NotEqual(node.Node.GrpcAddress.Port, node.Node.HttpAddress.Port);
    }

    [Fact]
    public async Task Readyz_follows_the_health_status_of_the_server()
    {
        await using var node = await TestNode.StartAsync();
        using var http = new HttpClient();
        var readyz = new Uri(node.Node.HttpAddress, "/readyz");

        using (var ready = await http.GetAsync(readyz))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());
        }

        node.Node.Health.SetStatus(string.Empty, ServingStatus.NotServing);
        using (var notReady = await http.GetAsync(readyz))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Equal("not ready: NOT_SERVING\n", await notReady.Content.ReadAsStringAsync());
        }

        Assert.Equal(ServingStatus.NotServing, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));

        // Liveness does not depend on readiness.
        using (var live = await http.GetAsync(new Uri(node.Node.HttpAddress, "/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        node.Node.Health.SetStatus(string.Empty, ServingStatus.Serving);
        using var readyAgain = await http.GetAsync(readyz);
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task The_http_port_does_not_serve_grpc()
    {
        await using var node = await TestNode.StartAsync();

        // A gRPC-looking request over HTTP/1.1: were the gRPC dispatcher in this pipeline, it
        // would answer 426 (upgrade to HTTP/2); the HTTP listener does not know the path.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node.Node.HttpAddress, "/grpc.health.v1.Health/Check"))
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // A real gRPC client speaks HTTP/2 with prior knowledge, which an HTTP/1.1 listener refuses.
        var error = await Assert.ThrowsAsync<RpcException>(() => TestNode.CheckHealthAsync(node.Node.HttpAddress));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task The_grpc_port_does_not_serve_health_endpoints()
    {
        await using var node = await TestNode.StartAsync();
        using var http = new HttpClient
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var healthz = await http.GetAsync(new Uri(node.Node.GrpcAddress, "/healthz"));
        using var readyz = await http.GetAsync(new Uri(node.Node.GrpcAddress, "/readyz"));

        Assert.Equal(HttpVersion.Version20, healthz.Version);
        Assert.Equal(HttpStatusCode.NotFound, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, readyz.StatusCode);

        // The cleartext gRPC listener speaks only HTTP/2: Kestrel refuses an HTTP/1.1 request.
        using var http1 = new HttpClient();
        using var refused = await http1.GetAsync(new Uri(node.Node.GrpcAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task Start_creates_the_data_directory_and_applies_the_limits()
    {
        await using var node = await TestNode.StartAsync(["--Node:MaxMessageSizeBytes", "1048576", "--Node:ShutdownTimeoutSeconds", "7"]);

        Assert.True(Directory.Exists(node.DataDirectory));
        var rpc = node.Node.Services.GetRequiredService<IOptions<RpcServerOptions>>().Value;
        Assert.Equal(1048576, rpc.MaxReceiveMessageSizeBytes);
        Assert.Equal(1048576, rpc.MaxSendMessageSizeBytes);
        Assert.Equal(TimeSpan.FromSeconds(7), node.Node.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public async Task Stopping_turns_readiness_off_and_closes_the_listeners()
    {
        await using var node = await TestNode.StartAsync();
        var grpc = node.Node.GrpcAddress;

        await node.Node.StopAsync();

        Assert.Equal(ServingStatus.NotServing, node.Node.Health.GetStatus(string.Empty));
        var error = await Assert.ThrowsAsync<RpcException>(() => TestNode.CheckHealthAsync(grpc));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task A_node_starts_only_once()
    {
        await using var node = await TestNode.StartAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => node.Node.StartAsync());
    }
}
