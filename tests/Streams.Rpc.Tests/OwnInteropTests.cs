namespace Streams.Rpc.Tests;

/// <summary>Our client against our server, over real HTTP/2 on loopback, for every interop case.</summary>
public sealed class OwnInteropTests(RpcServerFixture fixture) : IClassFixture<RpcServerFixture>
{
    public static TheoryData<string> Cases => new(InteropCases.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Our_client_and_our_server_agree(string name) => InteropCases.RunAsync(name, fixture.Server.Address);
}
