namespace Streams.Rpc.Tests;

/// <summary>Peers nobody here wrote (Python grpcio, Node grpc-js) as clients of our server.</summary>
public sealed class PeerClientTests(RpcServerFixture fixture) : IClassFixture<RpcServerFixture>
{
    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var language in new[] { "python", "node" })
            {
                foreach (var name in InteropCases.Names)
                {
                    data.Add(language, name);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Peer_client_works_against_our_server(string language, string name)
    {
        var (exitCode, output) = await PeerProcess.RunClientAsync(language, fixture.Server.Address, name);
        Assert.True(exitCode == 0, $"The {language} client failed case '{name}' against our server:\n{output}");
    }
}

/// <summary>Peers as servers, one process per language and compression setting for the whole class.</summary>
public sealed class PeerServers : IAsyncLifetime
{
    private readonly Dictionary<string, PeerProcess> _servers = new(StringComparer.Ordinal);

    public PeerProcess Get(string language, bool gzip) => _servers[Key(language, gzip)];

    public async Task InitializeAsync()
    {
        foreach (var language in new[] { "python", "node" })
        {
            _servers[Key(language, false)] = await PeerProcess.StartServerAsync(language);
            _servers[Key(language, true)] = await PeerProcess.StartServerAsync(language, "--gzip");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers.Values)
        {
            await server.DisposeAsync();
        }
    }

    private static string Key(string language, bool gzip) => gzip ? language + "+gzip" : language;
}

/// <summary>Our client against peer servers nobody here wrote.</summary>
public sealed class PeerServerTests(PeerServers servers) : IClassFixture<PeerServers>
{
    public static TheoryData<string, string> Cases => PeerClientTests.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Our_client_works_against_peer_server(string language, string name)
    {
        var server = servers.Get(language, gzip: false);
        try
        {
            await InteropCases.RunAsync(name, server.Address);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"Case '{name}' against the {language} server failed: {ex.Message}\nPeer stderr:\n{server.StandardError}");
        }
    }

    [Theory]
    [InlineData("python", "unary")]
    [InlineData("python", "server_streaming")]
    [InlineData("python", "gzip")]
    [InlineData("node", "unary")]
    [InlineData("node", "server_streaming")]
    [InlineData("node", "gzip")]
    public Task Our_client_decodes_gzip_responses_from_peer_server(string language, string name) =>
        InteropCases.RunAsync(name, servers.Get(language, gzip: true).Address);
}
