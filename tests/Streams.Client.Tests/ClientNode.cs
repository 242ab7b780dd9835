using System.Globalization;
using Streams.Server.Tests;

namespace Streams.Client.Tests;

/// <summary>A one-node cluster in-process and a <see cref="StreamsClient"/> of it, shared by a test class.</summary>
public sealed class ClientNode : IAsyncLifetime
{
    private static int _names;
    private TestNode? _node;
    private StreamsClient? _client;

    public TestNode Node => _node ?? throw new InvalidOperationException("not started");

    public StreamsClient Client => _client ?? throw new InvalidOperationException("not started");

    public Uri Address => Node.Node.GrpcAddress;

    /// <summary>A stream name no other test of the run uses.</summary>
    public static string NewStreamName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names).ToString(CultureInfo.InvariantCulture)}";

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(["--Cluster:TickMilliseconds", "10"]);
        _client = NewClient();
    }

    /// <summary>A client of the node; the caller disposes it.</summary>
    public StreamsClient NewClient(Func<StreamsClientOptions, StreamsClientOptions>? configure = null)
    {
        var options = new StreamsClientOptions { Endpoints = [Address] };
        return new StreamsClient(configure is null ? options : configure(options));
    }

    /// <summary>Creates an ACTIVE stream with a fresh name.</summary>
    public async Task<string> NewActiveStreamAsync(string prefix, int shards)
    {
        var name = NewStreamName(prefix);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Client.CreateStreamAndWaitAsync(name, shards, timeout.Token);
        return name;
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
