using Streams.Rpc.Interop;

namespace Streams.Rpc.Tests;

/// <summary>Our client against our server, over real HTTP/2 on loopback, for every interop case.</summary>
public sealed class OwnInteropTests : IAsyncLifetime
{
    private RpcTestServer? _server;

    public static TheoryData<string> Cases => new(InteropCases.Names);

    public async Task InitializeAsync() => _server = await RpcTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Our_client_and_our_server_agree(string name) => InteropCases.RunAsync(name, _server!.Address);
}
