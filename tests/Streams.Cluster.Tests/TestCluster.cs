using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Cluster.Tests;

/// <summary>
/// Three (or more) Streams nodes as real processes on 127.0.0.1, ids <c>node-1</c>..<c>node-N</c>,
/// each with its own ports and data directory under one temporary root, all formed from the same
/// static peer list.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private static readonly TimeSpan _callTimeout = TimeSpan.FromSeconds(10);

    // Replaced whole when a node is added, so that writers and pollers enumerate a stable list.
    private volatile NodeProcess[] _nodes;

    private readonly IReadOnlyList<string> _nodeArguments;

    private TestCluster(List<NodeProcess> nodes, string root, string peers, IReadOnlyList<string> nodeArguments)
    {
        _nodes = [.. nodes];
        Root = root;
        Peers = peers;
        _nodeArguments = nodeArguments;
    }

    /// <summary>Every node started, in the order started (a node added later comes last).</summary>
    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>The static peer list the first nodes were formed from, <c>node-1=http://127.0.0.1:P,...</c>.</summary>
    public string Peers { get; }

    /// <summary>The temporary directory holding every node's data directory.</summary>
    public string Root { get; }

    public NodeProcess Node(string id) => _nodes.Single(n => n.Id == id);

    /// <summary>Starts <paramref name="count"/> nodes and waits until each has printed its listening line.</summary>
    /// <param name="count">How many nodes, <c>node-1</c>..<c>node-N</c>.</param>
    /// <param name="name">Names the temporary root.</param>
    /// <param name="nodeArguments">
    /// More settings for every node (a node added later too), last on its command line so that they
    /// override the defaults here, such as <c>--Firehose:SessionTimeout 00:00:03</c>.
    /// </param>
    public static async Task<TestCluster> StartAsync(int count, string name, IReadOnlyList<string>? nodeArguments = null)
    {
        Tools.Require();
        var root = Directory.CreateTempSubdirectory($"streams-cluster-{name}-").FullName;
        var ports = FreePorts(2 * count);
        var peers = string.Join(',', Enumerable.Range(1, count).Select(i => $"node-{i}=http://127.0.0.1:{ports[2 * (i - 1)]}"));
        var nodes = new List<NodeProcess>();
        for (var i = 1; i <= count; i++)
        {
            var grpcPort = ports[2 * (i - 1)];
            var httpPort = ports[(2 * (i - 1)) + 1];
            nodes.Add(NewNode(root, $"node-{i}", grpcPort, httpPort, ["--peers", peers], nodeArguments ?? []));
        }

        var cluster = new TestCluster(nodes, root, peers, nodeArguments ?? []);
        try
        {
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
        }
        catch
        {
            await cluster.DisposeAsync();
            cluster.DeleteData();
            throw;
        }

        return cluster;
    }

    /// <summary>
    /// Starts one more node, <paramref name="nodeId"/>, that is not in the peer list: in join mode
    /// (<c>--join true</c>, its own address given with <c>--advertise</c>, the first nodes' list
    /// as <c>--peers</c>), it forms no cluster and waits to be added with Cluster.AddNode. Returns
    /// once it printed its listening line; it is one of <see cref="Nodes"/> from the start.
    /// </summary>
    public async Task<NodeProcess> StartJoiningNodeAsync(string nodeId)
    {
        var ports = FreePorts(2);
        var node = NewNode(Root, nodeId, ports[0], ports[1],
        [
            "--join", "true",
            "--advertise", $"http://127.0.0.1:{ports[0]}",
            "--peers", Peers,
        ], _nodeArguments);

        // Listed before it starts, so that a failed start is in the failure report and is cleaned up.
        _nodes = [.. _nodes, node];
        await node.StartAsync();
        return node;
    }

    /// <summary>Options for a call: a deadline, so that no call to a dying node hangs.</summary>
    public static CallOptions Call(TimeSpan? timeout = null) => new() { Deadline = DateTimeOffset.UtcNow + (timeout ?? _callTimeout) };

    /// <summary>A running node, at random.</summary>
    public NodeProcess RandomRunningNode(Random random)
    {
        var nodes = _nodes;
        var running = nodes.Where(n => n.IsRunning).ToList();
        return running.Count == 0 ? nodes[random.Next(nodes.Length)] : running[random.Next(running.Count)];
    }

    /// <summary>Every running node's view of the cluster (null for a node that did not answer).</summary>
    public async Task<(NodeProcess Node, DescribeClusterResponse? View)[]> DescribeAllAsync()
    {
        return await Task.WhenAll(_nodes.Select(async node =>
        {
            if (!node.IsRunning)
            {
                return (node, (DescribeClusterResponse?)null);
            }

            try
            {
                return (node, await node.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), Call(TimeSpan.FromSeconds(3))).ResponseAsync);
            }
            catch (RpcException)
            {
                return (node, null);
            }
        }));
    }

    /// <summary>
    /// The group as its leader sees it: among the running nodes' views, the one naming a leader in
    /// the highest term (a deposed leader may not know yet); null when no node names one.
    /// </summary>
    public async Task<RaftGroupInfo?> FindGroupAsync(string groupName)
    {
        var views = await DescribeAllAsync();
        return views
            .Where(v => v.View is not null)
            .SelectMany(v => v.View!.Groups.Where(g => g.Name == groupName && g.Leader.Length > 0))
            .OrderByDescending(g => g.Term)
            .FirstOrDefault();
    }

    /// <summary>Polls <see cref="FindGroupAsync"/> until the group has a leader that runs.</summary>
    public async Task<RaftGroupInfo> WaitForGroupLeaderAsync(string groupName, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await FindGroupAsync(groupName) is { } group && _nodes.Any(n => n.Id == group.Leader && n.IsRunning))
            {
                return group;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Group '{groupName}' had no running leader within {timeout.TotalSeconds} s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Every node's state, its view of the cluster and the tail of its output, for failure messages.</summary>
    public async Task<string> DescribeAsync(int tailLines)
    {
        var views = await DescribeAllAsync();
        var text = new StringBuilder();
        foreach (var (node, view) in views)
        {
            text.Append(CultureInfo.InvariantCulture, $"--- {node.Id} ({(node.IsRunning ? "running" : "down")}, {node.Incarnations} incarnation(s), grpc {node.GrpcAddress}, data {node.DataDirectory})\n");
            if (view is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"    controller leader {view.ControllerLeader}; groups: ")
                    .AppendJoin("; ", view.Groups.Select(g => $"{g.Name} leader={g.Leader} term={g.Term} commit={g.CommitIndex}"))
                    .Append('\n');
            }

            var notable = node.Notable(40);
            if (notable.Count > 0)
            {
                text.Append("    notable lines (errors, replicas opened and deleted, kills):\n").AppendJoin('\n', notable.Select(l => $"    {l}")).Append('\n');
            }

            text.Append("    the last lines:\n").Append(node.Digest(tailLines)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Writes each node's output, all incarnations, beside its data directory (node-N.log); returns where.</summary>
    public string SaveOutputs()
    {
        foreach (var node in _nodes)
        {
            node.SaveOutput(Path.Combine(Root, $"{node.Id}.log"));
        }

        return Path.Combine(Root, "node-*.log");
    }

    /// <summary>Kills every node (no orphans whatever happened); the data stays for <see cref="DeleteData"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
    }

    /// <summary>Deletes the data directories, unless STREAMS_CLUSTER_KEEP=1 asks to keep them (with every node's output) to look at.</summary>
    public void DeleteData()
    {
        if (Environment.GetEnvironmentVariable("STREAMS_CLUSTER_KEEP") == "1")
        {
            SaveOutputs();
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory.
        }
    }

    private static NodeProcess NewNode(string root, string nodeId, int grpcPort, int httpPort, IReadOnlyList<string> membership, IReadOnlyList<string> nodeArguments)
    {
        var data = Path.Combine(root, nodeId);
        return new NodeProcess(nodeId, grpcPort, httpPort, data,
        [
            "--node-id", nodeId,
            "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--data-dir", data,
            .. membership,
            "--Cluster:TickMilliseconds", "20",
            "--Logging:LogLevel:Default", "Warning",
            "--Logging:LogLevel:Streams", "Information",
            .. nodeArguments,
        ]);
    }

    /// <summary>
    /// Distinct loopback ports free now, below the kernel's ephemeral range: while a killed node (or
    /// any server a test restarts on its port) is down, the others keep connecting to it, and one of
    /// their outgoing connections could take its port from the ephemeral range and make its restart
    /// fail to bind.
    /// </summary>
    internal static int[] FreePorts(int count)
    {
        var ephemeralLow = 32768;
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(RangeFile)
            && int.TryParse(File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var low))
        {
            ephemeralLow = low;
        }

        var ports = new List<int>();
        for (var attempt = 0; ports.Count < count; attempt++)
        {
            if (attempt > 2000)
            {
                throw new InvalidOperationException($"Found only {ports.Count} free loopback ports below {ephemeralLow}.");
            }

            var port = Random.Shared.Next(Math.Min(10_000, ephemeralLow / 2), ephemeralLow);
            if (!ports.Contains(port) && CanBind(port))
            {
                ports.Add(port);
            }
        }

        return [.. ports];
    }

    private static bool CanBind(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
