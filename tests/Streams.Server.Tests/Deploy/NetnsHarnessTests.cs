using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Streams.Client;
using Streams.Server.Tests.Interop;
using Streams.V1;
using Xunit.Abstractions;

namespace Streams.Server.Tests.Deploy;

/// <summary>
/// deploy/netns/hosts.sh: three hosts as network namespaces on a bridge, a node in each, and the
/// faults the fault tests use (partition, heal, delay, crash and restart, pause and resume); the
/// hosts are always destroyed, and nothing of them may be left. Needs root and iproute2: without
/// them the test fails and says which is missing.
/// </summary>
public sealed partial class NetnsHarnessTests(ITestOutputHelper output)
{
    private const int Hosts = 3;
    private static readonly TimeSpan _scriptTimeout = TimeSpan.FromSeconds(90);
    private static readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(1) };

    private static string Script => Path.Combine(ToolProcess.RepoRoot, "deploy/netns/hosts.sh");

    [Fact]
    public async Task Hosts_serve_a_cluster_and_take_partitions_delay_crashes_and_pauses()
    {
        await RequireRootAndIproute2Async();
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory();
        // Unique per run: the prefix from the pid, the subnet's third octet from the pid too,
        // moving on when another run (or anything else) has that subnet.
        var prefix = "nt" + (Environment.ProcessId % 100_000).ToString(CultureInfo.InvariantCulture);
        var state = directory.Combine("state");
        string[] global = ["--name", prefix, "--state", state];
        string? net = null;
        try
        {
            ToolResult create = null!;
            for (var attempt = 0; attempt < 8 && net is null; attempt++)
            {
                var octet = 20 + ((Environment.ProcessId + (attempt * 37)) % 230);
                var candidate = $"10.77.{octet}";
                create = await RunAsync([.. global, "create", "--hosts", "3", "--subnet", candidate + ".0/24"]);
                if (create.ExitCode == 0)
                {
                    net = candidate;
                }
                else
                {
                    Assert.True(create.Stderr.Contains("in use here", StringComparison.Ordinal) || create.Stderr.Contains("routed here", StringComparison.Ordinal), create.Describe());
                }
            }

            Assert.True(net is not null, create.Describe());
            var namespaces = await ToolProcess.RunAsync("ip", ["netns", "list"], _scriptTimeout);
            for (var k = 1; k <= Hosts; k++)
            {
                Assert.Contains($"{prefix}-{k}", namespaces.Stdout, StringComparison.Ordinal);
            }

            // A node in every host, on its host's address, peers naming all three.
            var starts = await Task.WhenAll(Enumerable.Range(1, Hosts).Select(k => RunAsync(
                [.. global, "start-node", k.ToString(CultureInfo.InvariantCulture), "--server", ServerProcess.ServerDll, "--data", directory.Combine($"data-{k}"), "--Cluster:TickMilliseconds", "10"])));
            for (var k = 1; k <= Hosts; k++)
            {
                Assert.True(starts[k - 1].ExitCode == 0, starts[k - 1].Describe());
                Assert.Contains($"streams: listening grpc=http://{net}.{k}:7400 http=http://{net}.{k}:7401", starts[k - 1].Stdout, StringComparison.Ordinal);
            }

            var endpoints = Enumerable.Range(1, Hosts).Select(k => new Uri($"http://{net}.{k}:7400")).ToList();
            await using (var client = NewClient(endpoints))
            {
                await client.CreateStreamAsync(new CreateStreamRequest { StreamName = "netns-orders", ShardCount = 2 });
                await WaitActiveAsync(client, "netns-orders");
                await PutAsync(client, "before any fault");
            }

            Log(clock, "cluster serves");

            // Partition host 3 from hosts 1 and 2: no way through between them, both ways; 1 and 2
            // still talk, and this namespace still reaches every host over the bridge.
            await ExpectOkAsync([.. global, "partition", "1,2", "3"]);
            await ExpectUnreachableAsync(global, "1", "3");
            await ExpectUnreachableAsync(global, "3", "2");
            await ProbeAsync(global, "1", "2");
            await ProbeAsync(global, "root", "3");
            var status = await ExpectOkAsync([.. global, "status"]);
            Assert.Contains($"{prefix}-3 -> {prefix}-1", status.Stdout, StringComparison.Ordinal);
            await using (var majority = NewClient(endpoints.Take(2).ToList()))
            {
                await PutAsync(majority, "during the partition");
            }

            await ExpectOkAsync([.. global, "heal"]);
            await ProbeAsync(global, "1", "3");
            await ProbeAsync(global, "3", "2");

            // One way: 1's packets to 3 are lost, 3's to 1 arrive (a TCP connect needs both, so
            // both directions fail to connect; status shows only the one direction dropped).
            await ExpectOkAsync([.. global, "partition", "--one-way", "1", "3"]);
            await ExpectUnreachableAsync(global, "1", "3");
            status = await ExpectOkAsync([.. global, "status"]);
            Assert.Contains($"{prefix}-1 -> {prefix}-3", status.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain($"{prefix}-3 -> {prefix}-1", status.Stdout, StringComparison.Ordinal);
            await ExpectOkAsync([.. global, "heal"]);
            await ProbeAsync(global, "1", "3");
            Log(clock, "partitions and heal checked");

            // Delay needs the kernel's netem qdisc; where it is missing the script must say so.
            var delay = await RunAsync([.. global, "delay", "3", "50"]);
            if (delay.ExitCode == 0)
            {
                var rtt = await ProbeAsync(global, "root", "3");
                Assert.True(rtt >= 50, $"RTT to host 3 with 50 ms delay is {rtt} ms");
                await ExpectOkAsync([.. global, "heal"]);
                Assert.True(await ProbeAsync(global, "root", "3") < 50, "the delay outlived heal");
                Log(clock, "delay checked");
            }
            else
            {
                Assert.Contains("this kernel has no netem qdisc", delay.Stderr, StringComparison.Ordinal);
                output.WriteLine("NOT CHECKED: delay/loss/reorder, this kernel has no netem qdisc; the script said so: " + delay.Stderr.Trim());
            }

            // Crash host 3's node and restart it: it serves again from its data.
            await ExpectOkAsync([.. global, "crash", "3"]);
            Assert.False(await HealthyAsync(net, 3), "node-3 answers after crash");
            var restart = await ExpectOkAsync([.. global, "restart", "3"]);
            Assert.Contains($"streams: listening grpc=http://{net}.3:7400", restart.Stdout, StringComparison.Ordinal);
            await WaitHealthyAsync(net, 3);
            await using (var third = NewClient([endpoints[2]], routeToLeaders: false))
            {
                await PutAsync(third, "after the restart");
            }

            Log(clock, "crash and restart checked");

            // Pause host 2's node: it stops answering; resume: it answers again.
            await ExpectOkAsync([.. global, "pause", "2"]);
            Assert.False(await HealthyAsync(net, 2), "node-2 answers while paused");
            status = await ExpectOkAsync([.. global, "status"]);
            Assert.Matches($@"{prefix}-2 +{Regex.Escape(net)}\.2 +\d+ +paused", status.Stdout);
            await ExpectOkAsync([.. global, "resume", "2"]);
            await WaitHealthyAsync(net, 2);
            Log(clock, "pause and resume checked");
        }
        finally
        {
            var destroy = await RunAsync([.. global, "destroy"]);
            var namespaces = await ToolProcess.RunAsync("ip", ["netns", "list"], _scriptTimeout);
            var links = await ToolProcess.RunAsync("ip", ["-o", "link", "show"], _scriptTimeout);
            Assert.True(destroy.ExitCode == 0, destroy.Describe());
            Assert.DoesNotContain(prefix + "-", namespaces.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(" " + prefix + "-", links.Stdout, StringComparison.Ordinal);
            Assert.False(Directory.Exists(state), $"{state} is left after destroy");
        }

        Log(clock, "destroyed");
    }

    [Fact]
    public async Task Bad_arguments_fail_with_a_message()
    {
        await RequireRootAndIproute2Async();
        using var directory = new TempDirectory();
        string[] global = ["--name", "ntbad" + (Environment.ProcessId % 10_000).ToString(CultureInfo.InvariantCulture), "--state", directory.Combine("state")];

        var help = await RunAsync(["--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("partition --one-way A B", help.Stdout, StringComparison.Ordinal);

        var none = await RunAsync([.. global, "status"]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("create --hosts N' first", none.Stderr, StringComparison.Ordinal);

        var subnet = await RunAsync([.. global, "create", "--hosts", "3", "--subnet", "10.77.0.0/16"]);
        Assert.Equal(1, subnet.ExitCode);
        Assert.Contains("must be a /24", subnet.Stderr, StringComparison.Ordinal);

        var longName = await RunAsync(["--name", "averyverylongprefix", "create", "--hosts", "3"]);
        Assert.Equal(1, longName.ExitCode);
        Assert.Contains("is too long", longName.Stderr, StringComparison.Ordinal);

        var unknown = await RunAsync([.. global, "explode"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown command 'explode'", unknown.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("state")));
    }

    /// <summary>Fails (never skips) when this process cannot make namespaces.</summary>
    private static async Task RequireRootAndIproute2Async()
    {
        var id = await ToolProcess.RunAsync("id", ["-u"], _scriptTimeout);
        Assert.True(id.Stdout.Trim() == "0", $"deploy/netns/hosts.sh needs root (network namespaces, veths, a bridge): run the tests as root or with sudo; id -u says {id.Stdout.Trim()}");
        var ip = await ToolProcess.RunAsync("bash", ["-c", "command -v ip && command -v tc"], _scriptTimeout);
        Assert.True(ip.ExitCode == 0, $"deploy/netns/hosts.sh needs iproute2 (ip and tc): apt-get install iproute2\n{ip.Describe()}");
    }

    private static StreamsClient NewClient(IReadOnlyList<Uri> endpoints, bool routeToLeaders = true) => new(new StreamsClientOptions
    {
        Endpoints = endpoints,
        RequestTimeout = TimeSpan.FromSeconds(5),
        MaxAttempts = 40,
        RouteToShardLeaders = routeToLeaders,
    });

    private static async Task WaitActiveAsync(StreamsClient client, string stream)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while ((await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream })).StreamDescriptionSummary.StreamStatus != StreamStatus.Active)
        {
            Assert.True(DateTime.UtcNow < until, $"{stream} is not ACTIVE after 30 s");
            await Task.Delay(50);
        }
    }

    private static async Task PutAsync(StreamsClient client, string text)
    {
        var put = await client.PutRecordAsync(new PutRecordRequest { StreamName = "netns-orders", PartitionKey = "user-1", Data = ByteString.CopyFromUtf8(text) });
        Assert.False(string.IsNullOrEmpty(put.SequenceNumber), $"no sequence number for '{text}'");
    }

    private static async Task<bool> HealthyAsync(string net, int host)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"http://{net}.{host}:7401/healthz"));
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitHealthyAsync(string net, int host)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await HealthyAsync(net, host))
        {
            Assert.True(DateTime.UtcNow < until, $"node-{host} at {net}.{host} is not healthy after 30 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Probes FROM -> TO and expects it reachable; returns the connect round trip in ms.</summary>
    private static async Task<double> ProbeAsync(string[] global, string from, string to)
    {
        var probe = await RunAsync([.. global, "probe", from, to, "--timeout", "2"]);
        Assert.True(probe.ExitCode == 0, probe.Describe());
        var match = RttPattern().Match(probe.Stdout);
        Assert.True(match.Success, probe.Describe());
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static async Task ExpectUnreachableAsync(string[] global, string from, string to)
    {
        var probe = await RunAsync([.. global, "probe", from, to, "--timeout", "1"]);
        Assert.True(probe.ExitCode == 1, probe.Describe());
        Assert.Contains("unreachable", probe.Stdout, StringComparison.Ordinal);
    }

    private static async Task<ToolResult> ExpectOkAsync(string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result;
    }

    private static Task<ToolResult> RunAsync(string[] args)
    {
        return ToolProcess.RunAsync("bash", [Script, .. args], _scriptTimeout, environment: ToolProcess.ScriptEnvironment());
    }

    private void Log(Stopwatch clock, string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");

    [GeneratedRegex(@"rtt ([0-9]+\.[0-9]+) ms")]
    private static partial Regex RttPattern();
}
