using Streams.Rpc.Interop;

namespace Streams.Rpc.Tests;

/// <summary>One real server with the Interop service for all the tests of a class.</summary>
public sealed class RpcServerFixture : IAsyncLifetime
{
    private RpcTestServer? _server;

    public RpcTestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await RpcTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
