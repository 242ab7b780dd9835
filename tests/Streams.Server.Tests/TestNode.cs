using Streams.Rpc.Client;
using Streams.Rpc.Health;
using Streams.Rpc.Health.V1;
using Streams.Server.Hosting;

namespace Streams.Server.Tests;

/// <summary>
/// An in-process node on 127.0.0.1 with free ports and a temporary data directory. The
/// environment is empty unless given, so the machine's STREAMS_ and OTEL_ variables cannot leak in.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private TestNode(StreamsNode node, TempDirectory directory)
    {
        Node = node;
        _directory = directory;
    }

    public StreamsNode Node { get; }

    public string DataDirectory => Node.DataDirectory;

    public static async Task<TestNode> StartAsync(IEnumerable<string>? args = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var directory = new TempDirectory();
        try
        {
            var node = StreamsNode.Create(new StreamsNodeSettings
            {
                Args = [.. DefaultArgs(directory.Combine("data")), .. args ?? []],
                EnvironmentVariables = environment ?? new Dictionary<string, string?>(),
            });
            try
            {
                await node.StartAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }

            return new TestNode(node, directory);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Free ports, a temp data directory, and only warnings in the test output.</summary>
    public static string[] DefaultArgs(string dataDirectory) =>
        ["--grpc-port", "0", "--http-port", "0", "--data-dir", dataDirectory, "--Logging:LogLevel:Default", "Warning"];

    public static async Task<HealthCheckResponse.Types.ServingStatus> CheckHealthAsync(Uri grpcAddress, RpcChannelOptions? options = null)
    {
        using var channel = RpcChannel.ForAddress(grpcAddress, options);
        var client = new HealthClient(channel);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var response = await client.CheckAsync(new HealthCheckRequest(), new CallOptions { CancellationToken = timeout.Token });
        return response.Status;
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        _directory.Dispose();
    }
}
