using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.ClusterBench;

/// <summary>One shard as ListShards described it, with its leader and replicas as indexes into the cluster's nodes.</summary>
/// <param name="Index">Position in the stream's shard list (0-based).</param>
/// <param name="ShardId">Such as <c>shardId-000000000000</c>.</param>
/// <param name="Start">First hash key of its range.</param>
/// <param name="End">Last hash key of its range.</param>
/// <param name="Leader">The node leading its Raft group; -1 when none is known.</param>
/// <param name="Replicas">The nodes holding a replica.</param>
internal sealed record ShardInfo(int Index, string ShardId, UInt128 Start, UInt128 End, int Leader, IReadOnlyList<int> Replicas);

/// <summary>
/// A 3-node Streams cluster on this machine: each node a child process with its own data directory
/// and free loopback ports, formed from a static peer list; one client channel per node.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan _startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan _stopTimeout = TimeSpan.FromSeconds(5);

    private readonly NodeProcess[] _nodes;
    private readonly RpcChannel[] _channels;

    private LocalCluster(NodeProcess[] nodes, RpcChannel[] channels, string[] args)
    {
        _nodes = nodes;
        _channels = channels;
        NodeArguments = args;
        Clients = [.. channels.Select(c => new StreamsApiClient(c))];
    }

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>One client per node, each over its own channel (its own HTTP/2 connection).</summary>
    public IReadOnlyList<StreamsApiClient> Clients { get; }

    /// <summary>The command line each node was started with (after the dll).</summary>
    public IReadOnlyList<string> NodeArguments { get; }

    /// <summary>The first node that exited, if any did.</summary>
    public NodeProcess? Exited => _nodes.FirstOrDefault(n => n.HasExited);

    /// <summary>CPU time used by the three nodes together so far.</summary>
    public TimeSpan CpuTime => _nodes.Aggregate(TimeSpan.Zero, (sum, node) => sum + node.CpuTime);

    /// <summary>Starts the nodes and waits until each listens.</summary>
    /// <param name="nodeCount">How many nodes (node-1..node-N).</param>
    /// <param name="dataRoot">Where each node's data directory goes.</param>
    /// <param name="logRoot">Where each node's log goes.</param>
    /// <param name="durability">The nodes' durability policy.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <param name="extraArguments">More settings for every node, such as <c>--Firehose:ReportInterval 00:00:01</c>.</param>
    public static async Task<LocalCluster> StartAsync(int nodeCount, string dataRoot, string logRoot, string durability, CancellationToken cancellationToken, IReadOnlyList<string>? extraArguments = null)
    {
        Directory.CreateDirectory(dataRoot);
        Directory.CreateDirectory(logRoot);
        for (var attempt = 1; ; attempt++)
        {
            // Free ports, found by binding port 0, released just before the nodes bind them: another
            // program could take one in between, so a node that fails to start is retried.
            var ports = FreePorts(2 * nodeCount);
            var names = Enumerable.Range(1, nodeCount).Select(i => "node-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            var addresses = Enumerable.Range(0, nodeCount).Select(i => new Uri("http://127.0.0.1:" + ports[2 * i].ToString(CultureInfo.InvariantCulture))).ToArray();
            var peers = string.Join(',', names.Select((name, i) => $"{name}={addresses[i].GetLeftPart(UriPartial.Authority)}"));
            var nodes = new List<NodeProcess>();
            var args = new string[nodeCount];
            try
            {
                for (var i = 0; i < nodeCount; i++)
                {
                    var dataDirectory = Path.Combine(dataRoot, names[i]);
                    if (Directory.Exists(dataDirectory))
                    {
                        Directory.Delete(dataDirectory, recursive: true);
                    }

                    string[] nodeArgs =
                    [
                        "--node-id", names[i],
                        "--grpc-port", ports[2 * i].ToString(CultureInfo.InvariantCulture),
                        "--http-port", ports[(2 * i) + 1].ToString(CultureInfo.InvariantCulture),
                        "--data-dir", dataDirectory,
                        "--peers", peers,
                        "--replication-factor", nodeCount.ToString(CultureInfo.InvariantCulture),
                        "--durability", durability,
                        .. extraArguments ?? [],
                    ];
                    var node = NodeProcess.Start(names[i], addresses[i], Path.Combine(logRoot, names[i] + ".log"), nodeArgs);
                    nodes.Add(node);
                    args[i] = node.Arguments;
                }

                foreach (var node in nodes)
                {
                    await node.WaitForListeningAsync(_startTimeout, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (attempt < 3 && ex is InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                Session.Progress($"cluster start failed ({ex.Message.Split('\n')[0]}); trying again with other ports");
                foreach (var node in nodes)
                {
                    node.Dispose();
                }

                continue;
            }
            catch
            {
                foreach (var node in nodes)
                {
                    node.Dispose();
                }

                throw;
            }

            var options = new RpcChannelOptions { MaxReceiveMessageSizeBytes = 64 * 1024 * 1024, MaxSendMessageSizeBytes = 64 * 1024 * 1024 };
            var channels = nodes.Select(n => RpcChannel.ForAddress(n.GrpcAddress, options)).ToArray();
            return new LocalCluster([.. nodes], channels, args);
        }
    }

    /// <summary>Creates the stream (retrying while the cluster forms) and waits until it is ACTIVE and every shard has a leader.</summary>
    public async Task<IReadOnlyList<ShardInfo>> CreateStreamAsync(string name, int shards, int replicationFactor, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + _startTimeout;
        var request = new CreateStreamRequest { StreamName = name, ShardCount = shards, ReplicationFactor = replicationFactor };
        while (true)
        {
            ThrowIfExited();
            try
            {
                using var call = Clients[0].CreateStreamAsync(request, Deadline(10, cancellationToken));
                await call.ResponseAsync.ConfigureAwait(false);
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                break; // An earlier attempt did it, and its answer was lost.
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTimeOffset.UtcNow < until)
            {
                // The controller has no leader yet.
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        while (true)
        {
            ThrowIfExited();
            using var call = Clients[0].DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, Deadline(10, cancellationToken));
            var summary = await call.ResponseAsync.ConfigureAwait(false);
            if (summary.StreamDescriptionSummary.StreamStatus == StreamStatus.Active)
            {
                break;
            }

            if (DateTimeOffset.UtcNow > until)
            {
                throw new TimeoutException($"Stream {name} is still {summary.StreamDescriptionSummary.StreamStatus} {_startTimeout.TotalSeconds:0} s after the cluster started.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var map = await ListShardsAsync(name, cancellationToken).ConfigureAwait(false);
            if (map.All(s => s.Leader >= 0))
            {
                return map;
            }

            if (DateTimeOffset.UtcNow > until)
            {
                throw new TimeoutException($"Shards {string.Join(", ", map.Where(s => s.Leader < 0).Select(s => s.ShardId))} have no leader {_startTimeout.TotalSeconds:0} s after the cluster started.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The stream's open shards in hash-key order, with their leaders as the metadata knows them.</summary>
    public async Task<IReadOnlyList<ShardInfo>> ListShardsAsync(string name, CancellationToken cancellationToken)
    {
        ThrowIfExited();
        var request = new ListShardsRequest { StreamName = name, ShardFilter = new ShardFilter { Type = ShardFilterType.AtLatest } };
        using var call = Clients[0].ListShardsAsync(request, Deadline(10, cancellationToken));
        var response = await call.ResponseAsync.ConfigureAwait(false);
        return ShardMap(response, IndexOf);
    }

    /// <summary>The shards of a ListShards answer in hash-key order, their leader and replicas as node indexes (<paramref name="indexOf"/>; -1 for none).</summary>
    public static IReadOnlyList<ShardInfo> ShardMap(ListShardsResponse response, Func<string, int> indexOf)
    {
        ArgumentNullException.ThrowIfNull(response);
        return
        [
            .. response.Shards
                .Select(s => (Shard: s, Start: UInt128.Parse(s.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture)))
                .OrderBy(s => s.Start)
                .Select((s, i) => new ShardInfo(
                    i,
                    s.Shard.ShardId,
                    s.Start,
                    UInt128.Parse(s.Shard.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture),
                    indexOf(s.Shard.Leader),
                    [.. s.Shard.Replicas.Select(indexOf).Where(r => r >= 0)])),
        ];
    }

    /// <summary>Throws when a node has exited: everything measured after that would be about a smaller cluster.</summary>
    public void ThrowIfExited()
    {
        if (Exited is { } node)
        {
            throw new NodeExitedException(node);
        }
    }

    public static CallOptions Deadline(double seconds, CancellationToken cancellationToken) =>
        new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(seconds), CancellationToken = cancellationToken };

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        await Task.WhenAll(_nodes.Select(n => n.StopAsync(_stopTimeout))).ConfigureAwait(false);
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    private int IndexOf(string name) => Array.FindIndex(_nodes, n => n.Name == name);

    private static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
                listener.Dispose();
            }
        }
    }
}

/// <summary>A node of the cluster exited while the benchmark ran.</summary>
internal sealed class NodeExitedException(NodeProcess node)
    : Exception($"{node.Name} (pid {node.Pid}) exited with code {node.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} during the benchmark")
{
    public NodeProcess Node { get; } = node;
}
