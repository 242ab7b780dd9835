using Streams.Rpc.Client;
using Streams.Rpc.Interop;
using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>How channels use connections, and how they fail before reaching a server.</summary>
public sealed class ChannelTests
{
    [Fact]
    public async Task Channels_sharing_a_handler_share_its_connection()
    {
        await using var server = await RpcTestServer.StartAsync(services: s => s.AddRpcService<ProbeService>());
        using var handler = RpcChannel.CreateHttpHandler();
        using var first = RpcChannel.ForAddress(server.Address, new RpcChannelOptions { HttpHandler = handler });
        using var second = RpcChannel.ForAddress(server.Address, new RpcChannelOptions { HttpHandler = handler });
        using var separate = RpcChannel.ForAddress(server.Address);

        var a = (await first.UnaryCall(ProbeService.WhoAmI, new EchoRequest())).Payload.ToStringUtf8();
        var b = (await second.UnaryCall(ProbeService.WhoAmI, new EchoRequest())).Payload.ToStringUtf8();
        var c = (await separate.UnaryCall(ProbeService.WhoAmI, new EchoRequest())).Payload.ToStringUtf8();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_UNAVAILABLE_naming_the_address()
    {
        // Bind and release a port so nothing listens on it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var channel = RpcChannel.ForAddress($"http://127.0.0.1:{port}");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new InteropClient(channel).UnaryAsync(new EchoRequest()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains($"127.0.0.1:{port}", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deadline_already_past_fails_without_sending()
    {
        using var channel = RpcChannel.ForAddress("http://127.0.0.1:9");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new InteropClient(channel).UnaryAsync(new EchoRequest(), new CallOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) }));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public void A_channel_address_must_be_http_or_https() =>
        Assert.Contains("http://", Assert.Throws<ArgumentException>(() => RpcChannel.ForAddress("ftp://127.0.0.1:1")).Message, StringComparison.Ordinal);

    [Fact]
    public void Calling_a_method_as_the_wrong_kind_is_refused()
    {
        using var channel = RpcChannel.ForAddress("http://127.0.0.1:9");
        Assert.Throws<ArgumentException>(() => channel.ServerStreamingCall(InteropMethods.Unary, new EchoRequest()));
    }
}
