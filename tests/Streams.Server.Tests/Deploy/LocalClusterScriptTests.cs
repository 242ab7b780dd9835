using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Server.Tests.Interop;
using Streams.V1;

namespace Streams.Server.Tests.Deploy;

/// <summary>
/// deploy/local-cluster.sh: starts three node processes (the server built beside the tests) on
/// free ports under a temporary directory, reports them, serves the API, and stops them all.
/// </summary>
public sealed class LocalClusterScriptTests
{
    private const int Nodes = 3;
    private static readonly TimeSpan _scriptTimeout = TimeSpan.FromSeconds(180);

    private static string Script => Path.Combine(ToolProcess.RepoRoot, "deploy/local-cluster.sh");

    [Fact]
    public async Task Start_status_put_get_and_stop_a_three_node_cluster()
    {
        using var directory = new TempDirectory();
        var data = directory.Combine("cluster");
        var basePort = FindFreeBasePort();
        string[] shape = ["--nodes", "3", "--base-port", basePort.ToString(CultureInfo.InvariantCulture), "--data", data];
        var pids = new List<int>();
        ToolResult stop;
        try
        {
            var start = await RunScriptAsync(["start", .. shape, "--", "--Cluster:TickMilliseconds", "10"]);
            Assert.True(start.ExitCode == 0, start.Describe());
            for (var k = 1; k <= Nodes; k++)
            {
                var pidFile = Path.Combine(data, $"node-{k}", "node.pid");
                Assert.True(File.Exists(pidFile), $"no {pidFile}\n{start.Describe()}");
                pids.Add(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
                Assert.Contains($"node-{k}  pid {pids[^1]}  grpc http://127.0.0.1:{GrpcPort(basePort, k)}", start.Stdout, StringComparison.Ordinal);
                Assert.True(File.Exists(Path.Combine(data, $"node-{k}", "node.log")), start.Describe());
                Assert.True(Directory.Exists(Path.Combine(data, $"node-{k}", "data")), start.Describe());
            }

            var status = await RunScriptAsync(["status", .. shape]);
            Assert.True(status.ExitCode == 0, status.Describe());
            Assert.Contains("3 of 3 nodes healthy (3 running)", status.Stdout, StringComparison.Ordinal);
            for (var k = 1; k <= Nodes; k++)
            {
                var line = status.Stdout.Split('\n').Single(l => l.StartsWith($"node-{k} ", StringComparison.Ordinal));
                Assert.Equal(
                    ["node-" + k, pids[k - 1].ToString(CultureInfo.InvariantCulture), $"127.0.0.1:{GrpcPort(basePort, k)}", $"127.0.0.1:{GrpcPort(basePort, k) + 1}", "running", "ok", "ready"],
                    line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }

            // A second start finds every node running and starts nothing.
            var again = await RunScriptAsync(["start", .. shape]);
            Assert.True(again.ExitCode == 0, again.Describe());
            Assert.Equal(Nodes, again.Stdout.Split('\n').Count(l => l.Contains("already running", StringComparison.Ordinal)));

            await PutAndGetThroughAsync(new Uri($"http://127.0.0.1:{GrpcPort(basePort, 2)}"));
        }
        finally
        {
            stop = await RunScriptAsync(["stop", .. shape]);
            var survivors = pids.Where(pid => IsNode(pid, data)).ToList();
            foreach (var pid in survivors)
            {
                // Never leave a node behind, whatever failed above.
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
                catch (ArgumentException)
                {
                    // It ended meanwhile.
                }
            }

            Assert.True(survivors.Count == 0, $"node processes {string.Join(", ", survivors)} still ran after stop\n{stop.Describe()}");
        }

        Assert.True(stop.ExitCode == 0, stop.Describe());
        Assert.Equal(Nodes, stop.Stdout.Split('\n').Count(l => l.EndsWith(") stopped", StringComparison.Ordinal)));
        for (var k = 1; k <= Nodes; k++)
        {
            Assert.False(File.Exists(Path.Combine(data, $"node-{k}", "node.pid")));
        }

        var after = await RunScriptAsync(["status", .. shape]);
        Assert.True(after.ExitCode == 3, after.Describe());
        Assert.Contains("0 of 3 nodes healthy (0 running)", after.Stdout, StringComparison.Ordinal);

        var stopAgain = await RunScriptAsync(["stop", .. shape]);
        Assert.True(stopAgain.ExitCode == 0, stopAgain.Describe());
        Assert.Equal(Nodes, stopAgain.Stdout.Split('\n').Count(l => l.EndsWith(" not running", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Bad_arguments_fail_with_a_message()
    {
        using var directory = new TempDirectory();
        var data = directory.Combine("cluster");

        var noCommand = await RunScriptAsync(["--nodes", "3", "--data", data]);
        Assert.Equal(1, noCommand.ExitCode);
        Assert.Contains("say start, stop or status", noCommand.Stderr, StringComparison.Ordinal);

        var badNodes = await RunScriptAsync(["start", "--nodes", "zero", "--data", data]);
        Assert.Equal(1, badNodes.ExitCode);
        Assert.Contains("--nodes 'zero' is not a number from 1 to 50", badNodes.Stderr, StringComparison.Ordinal);

        var badPort = await RunScriptAsync(["start", "--base-port", "65530", "--data", data]);
        Assert.Equal(1, badPort.ExitCode);
        Assert.Contains("--base-port '65530'", badPort.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), "a refused start must not create the data directory");

        var never = await RunScriptAsync(["status", "--data", data]);
        Assert.Equal(3, never.ExitCode);
        Assert.Contains("never started", never.Stdout, StringComparison.Ordinal);
    }

    private static async Task PutAndGetThroughAsync(Uri node)
    {
        using var channel = RpcChannel.ForAddress(node);
        var streams = new StreamsApiClient(channel);
        await RetryUnavailableAsync(() => streams.CreateStreamAsync(new CreateStreamRequest { StreamName = "script-orders", ShardCount = 2 }, Deadline()));
        var until = DateTime.UtcNow.AddSeconds(30);
        while ((await streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = "script-orders" }, Deadline())).StreamDescriptionSummary.StreamStatus != StreamStatus.Active)
        {
            Assert.True(DateTime.UtcNow < until, "script-orders is not ACTIVE after 30 s");
            await Task.Delay(50);
        }

        var put = await RetryUnavailableAsync(() => streams.PutRecordAsync(new PutRecordRequest { StreamName = "script-orders", PartitionKey = "user-1", Data = ByteString.CopyFromUtf8("hello from the script test") }, Deadline()));
        var iterator = (await streams.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "script-orders", ShardId = put.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon }, Deadline())).ShardIterator;
        var page = await streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator }, Deadline());
        var record = Assert.Single(page.Records);
        Assert.Equal(put.SequenceNumber, record.SequenceNumber);
        Assert.Equal("user-1", record.PartitionKey);
        Assert.Equal("hello from the script test", record.Data.ToStringUtf8());
    }

    /// <summary>The first calls may find the new cluster still electing its leaders.</summary>
    private static async Task<T> RetryUnavailableAsync<T>(Func<AsyncUnaryCall<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    private static CallOptions Deadline() => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(20) };

    private static Task<ToolResult> RunScriptAsync(string[] args)
    {
        // The nodes run the server built beside these tests; the test process's STREAMS_
        // settings (and a developer's STREAMS_ENDPOINT) stay out of the script and the nodes.
        var environment = ToolProcess.ScriptEnvironment();
        environment["STREAMS_SERVER_DLL"] = ServerProcess.ServerDll;
        // The CLI is not built by this test project: status runs without it.
        environment["STREAMS_CLI_DLL"] = "";
        return ToolProcess.RunAsync("bash", [Script, .. args], _scriptTimeout, environment: environment);
    }

    private static int GrpcPort(int basePort, int node) => basePort + (10 * (node - 1));

    /// <summary>A base port whose six ports (gRPC and HTTP of three nodes) are all free now.</summary>
    private static int FindFreeBasePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var candidate = Random.Shared.Next(20_000, 60_000);
            var ports = Enumerable.Range(1, Nodes).SelectMany(k => new[] { GrpcPort(candidate, k), GrpcPort(candidate, k) + 1 });
            if (ports.All(IsFree))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free base port found for a three-node cluster.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True while <paramref name="pid"/> is a live node of the cluster in <paramref name="data"/> (not a reused pid).</summary>
    private static bool IsNode(int pid, string data)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return commandLine.Contains(data, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
