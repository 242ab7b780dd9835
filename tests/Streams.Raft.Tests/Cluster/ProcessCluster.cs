using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Streams.Raft.Tests.Cluster;

/// <summary>A node's answer to <c>GET /status</c>.</summary>
internal sealed record NodeStatus(long Node, string Role, long Term, long Leader, long Commit, long Applied, long LastIndex)
{
    public bool IsLeader => Role == "Leader";

    public override string ToString() => $"{Role} term {Term} leader {Leader} commit {Commit} applied {Applied} last {LastIndex}";
}

/// <summary>One value of <c>GET /values</c>.</summary>
internal sealed record AppliedValue(long Index, string Value);

/// <summary>A node's answer to <c>GET /values</c>: its state machine, in log order.</summary>
internal sealed record AppliedValues(long Applied, IReadOnlyList<AppliedValue> Values);

/// <summary>What became of one write attempt, from the client's side.</summary>
internal enum PutResult
{
    /// <summary>Committed and applied: it must survive.</summary>
    Acknowledged,

    /// <summary>Certainly not written (refused before it was appended, or replaced): it can never apply.</summary>
    NotWritten,

    /// <summary>No answer that settles it (the node died, timed out, lost leadership after appending): it may apply.</summary>
    Ambiguous,
}

internal readonly record struct PutOutcome(PutResult Result, long Index, long LeaderHint, string Detail);

/// <summary>
/// Three (or more) <c>Streams.Raft.ProcessNode</c> processes over loopback, each with its own
/// data directory under one temporary root, and a client for their HTTP API.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    public const string NodeAssemblyName = "Streams.Raft.ProcessNode.dll";

    // Longer than the node's own wait for a proposal (4 s), so a slow write gets the node's
    // "ambiguous" answer rather than a client timeout; both count the same.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(8) };
    private readonly Dictionary<long, NodeProcess> _nodes;

    private ProcessCluster(Dictionary<long, NodeProcess> nodes, string root)
    {
        _nodes = nodes;
        Root = root;
    }

    /// <summary>Where the node's program is expected: copied next to the tests by the ProjectReference.</summary>
    public static string NodeAssemblyPath => Path.Combine(AppContext.BaseDirectory, NodeAssemblyName);

    public IReadOnlyCollection<NodeProcess> Nodes => _nodes.Values;

    /// <summary>The temporary directory holding every node's data directory.</summary>
    public string Root { get; }

    public NodeProcess Node(long id) => _nodes[id];

    /// <summary>Starts <paramref name="count"/> nodes, ids 1..count, and waits until each is ready.</summary>
    public static async Task<ProcessCluster> StartAsync(int count, TimeSpan tickInterval, long snapshotEveryEntries)
    {
        if (!File.Exists(NodeAssemblyPath))
        {
            throw new FileNotFoundException(
                $"The Raft node program {NodeAssemblyPath} is missing. It is built with Streams.Raft.Tests through a ProjectReference to "
                + "tests/Streams.Raft.ProcessNode; build the test project (dotnet build tests/Streams.Raft.Tests) rather than running stale binaries.",
                NodeAssemblyPath);
        }

        var root = Directory.CreateTempSubdirectory("streams-raft-kill-").FullName;
        var ports = FreePorts(2 * count);
        var peers = string.Join(',', Enumerable.Range(1, count).Select(id => $"{id}=http://127.0.0.1:{ports[2 * (id - 1)]}"));
        var nodes = new Dictionary<long, NodeProcess>();
        for (var id = 1; id <= count; id++)
        {
            var raftPort = ports[2 * (id - 1)];
            var httpPort = ports[(2 * (id - 1)) + 1];
            var data = Path.Combine(root, $"node-{id}");
            nodes[id] = new NodeProcess(id, httpPort, data, NodeAssemblyPath,
            [
                "--id", id.ToString(CultureInfo.InvariantCulture),
                "--port", raftPort.ToString(CultureInfo.InvariantCulture),
                "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
                "--peers", peers,
                "--data", data,
                "--tick-ms", ((long)tickInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                "--snapshot-every", snapshotEveryEntries.ToString(CultureInfo.InvariantCulture),
            ]);
        }

        var cluster = new ProcessCluster(nodes, root);
        try
        {
            await Task.WhenAll(nodes.Values.Select(node => node.StartAsync()));
        }
        catch
        {
            // The exception carries the failing node's output; the empty data is not worth keeping.
            await cluster.DisposeAsync();
            cluster.DeleteData();
            throw;
        }

        return cluster;
    }

    /// <summary>The node's status, or null when it does not answer.</summary>
    public async Task<NodeStatus?> StatusAsync(NodeProcess node)
    {
        if (!node.IsRunning)
        {
            return null;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await _http.GetFromJsonAsync<NodeStatus>(new Uri(node.HttpAddress, "status"), timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The running node that says it leads, in the highest term when several do (a deposed leader
    /// may not know yet); null when none does.
    /// </summary>
    public async Task<NodeProcess?> FindLeaderAsync()
    {
        var statuses = await Task.WhenAll(_nodes.Values.Select(async node => (Node: node, Status: await StatusAsync(node))));
        return statuses
            .Where(s => s.Status is { IsLeader: true })
            .OrderByDescending(s => s.Status!.Term)
            .Select(s => s.Node)
            .FirstOrDefault();
    }

    /// <summary>Polls until some node leads.</summary>
    public async Task<NodeProcess> WaitForLeaderAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await FindLeaderAsync() is { } leader)
            {
                return leader;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No node led within {timeout.TotalSeconds} s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Writes one value through <paramref name="node"/> and classifies the answer.</summary>
    public async Task<PutOutcome> PutAsync(NodeProcess node, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node.HttpAddress, "put"))
        {
            Content = new StringContent(value, Encoding.UTF8, "text/plain"),
        };

        // A fresh connection per write: on a pooled connection that breaks before any response
        // byte, SocketsHttpHandler resends the request by itself, so a write the killed leader had
        // received could come back as a refusal from its restarted incarnation and be taken for
        // "not written" when it may commit.
        request.Headers.ConnectionClose = true;
        try
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var ok = JsonDocument.Parse(body);
                return new PutOutcome(PutResult.Acknowledged, ok.RootElement.GetProperty("index").GetInt64(), 0, body);
            }

            if (response.StatusCode is HttpStatusCode.MisdirectedRequest or HttpStatusCode.ServiceUnavailable)
            {
                using var refused = JsonDocument.Parse(body);
                var mayHaveCommitted = refused.RootElement.GetProperty("mayHaveCommitted").GetBoolean();
                var leader = refused.RootElement.GetProperty("leader").GetInt64();
                return new PutOutcome(mayHaveCommitted ? PutResult.Ambiguous : PutResult.NotWritten, 0, leader, body);
            }

            return new PutOutcome(PutResult.Ambiguous, 0, 0, $"HTTP {(int)response.StatusCode}: {body}");
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            // Nothing was sent: the node is down (killed, not restarted yet).
            return new PutOutcome(PutResult.NotWritten, 0, 0, "connection refused");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // The request may have reached the node before it died or before the client gave up.
            return new PutOutcome(PutResult.Ambiguous, 0, 0, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    public async Task<AppliedValues> ValuesAsync(NodeProcess node)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _http.GetFromJsonAsync<AppliedValues>(new Uri(node.HttpAddress, "values"), timeout.Token)
            ?? throw new InvalidOperationException($"Node {node.Id} returned no values.");
    }

    /// <summary>Every node's status and output tail, for failure messages.</summary>
    public async Task<string> DescribeAsync(int tailLines)
    {
        var text = new StringBuilder();
        foreach (var node in _nodes.Values)
        {
            var status = await StatusAsync(node);
            text.Append(CultureInfo.InvariantCulture, $"--- node {node.Id} ({(node.IsRunning ? "running" : "down")}): {status?.ToString() ?? "no status"}; data {node.DataDirectory}\n");
            text.Append(node.Tail(tailLines)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Kills every node (no orphans whatever happened); the data stays for <see cref="DeleteData"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }

        _http.Dispose();
    }

    public void DeleteData()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory.
        }
    }

    /// <summary>
    /// Distinct loopback ports that are free now, chosen below the kernel's ephemeral range:
    /// while a killed node is down, the other nodes keep connecting to it, and one of their
    /// outgoing connections could otherwise take its port and make the restart fail to bind.
    /// </summary>
    private static int[] FreePorts(int count)
    {
        var ephemeralLow = 32768;
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(RangeFile)
            && int.TryParse(File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var low))
        {
            ephemeralLow = low;
        }

        var ports = new List<int>();
        var random = new Random();
        for (var attempt = 0; ports.Count < count; attempt++)
        {
            if (attempt > 1000)
            {
                throw new InvalidOperationException($"Found only {ports.Count} free loopback ports below {ephemeralLow}.");
            }

            var port = random.Next(Math.Min(10_000, ephemeralLow / 2), ephemeralLow);
            if (!ports.Contains(port) && CanBind(port))
            {
                ports.Add(port);
            }
        }

        return [.. ports];
    }

    private static bool CanBind(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
            listener.Dispose();
        }
    }
}
