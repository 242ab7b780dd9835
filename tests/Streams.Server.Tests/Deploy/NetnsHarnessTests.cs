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
/// faults the fault tests use (partition, heal, delay, loss, reorder, crash and restart, pause and
/// resume); the hosts are always destroyed, and nothing of them may be left. Delay, loss and
/// reorder go through netem where the kernel has it, else through the user-space wire
/// (deploy/netns/wire.py, create's default --link auto). Needs root and iproute2: without them
/// the test fails and says which is missing.
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
            (net, var create) = await CreateAsync(global, Hosts);
            // The default link: veth where the kernel has netem, else the user-space wire.
            var wire = create.Stdout.Contains("links: wire", StringComparison.Ordinal);
            Assert.True(wire || create.Stdout.Contains("links: veth (this kernel has netem)", StringComparison.Ordinal), create.Describe());
            output.WriteLine(create.Stdout.Split('\n').First(line => line.StartsWith("links: ", StringComparison.Ordinal)));
            if (wire)
            {
                Assert.Equal(Hosts, WireProcesses(prefix).Count);
            }

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

            // Delay, loss and reorder on host 2's egress: by netem or by the wire, whichever the
            // link is; either way a connect 1 -> 2 waits for 2's answer, and 2 -> 1 for 2's SYN.
            var kind = wire ? "wire" : "netem";
            var delay = await ExpectOkAsync([.. global, "delay", "2", "200"]);
            Assert.Contains($"{prefix}-2 eth0 egress: {kind} delay 200ms", delay.Stdout, StringComparison.Ordinal);
            var rtt = await ProbeAsync(global, "1", "2");
            Assert.True(rtt >= 200, $"RTT 1 -> 2 with 200 ms delay on 2 is {rtt} ms");
            rtt = await ProbeAsync(global, "2", "1");
            Assert.True(rtt >= 200, $"RTT 2 -> 1 with 200 ms delay on 2 is {rtt} ms");
            Assert.True(await ProbeAsync(global, "1", "3") < 200, "host 3 is delayed too");
            await ExpectOkAsync([.. global, "delay", "2", "0"]);
            Assert.True(await FastestProbeAsync(global, "1", "2") < 50, "the delay outlived 'delay 2 0'");

            await ExpectOkAsync([.. global, "loss", "2", "100"]);
            await ExpectUnreachableAsync(global, "1", "2");
            await ExpectUnreachableAsync(global, "root", "2");
            await ExpectOkAsync([.. global, "loss", "2", "0"]);
            await ProbeAsync(global, "1", "2");

            // The three combine; status shows them; heal clears them.
            await ExpectOkAsync([.. global, "delay", "2", "20", "5"]);
            await ExpectOkAsync([.. global, "loss", "2", "1"]);
            var reorder = await ExpectOkAsync([.. global, "reorder", "2", "25"]);
            Assert.Contains($"{kind} delay 20ms 5ms loss 1% reorder 25%", reorder.Stdout, StringComparison.Ordinal);
            status = await ExpectOkAsync([.. global, "status"]);
            Assert.Matches(wire ? $@"{prefix}-2 .* wire delay 20ms 5ms loss 1% reorder 25% \(pid \d+\)" : $@"{prefix}-2 .* netem .*delay 20ms", status.Stdout);
            await ExpectOkAsync([.. global, "heal"]);
            status = await ExpectOkAsync([.. global, "status"]);
            Assert.DoesNotContain("delay 20ms", status.Stdout, StringComparison.Ordinal);
            Assert.True(await FastestProbeAsync(global, "1", "2") < 50, "the delay outlived heal");

            // A partition over the same links, after all that.
            await ExpectOkAsync([.. global, "partition", "--one-way", "2", "1"]);
            await ExpectUnreachableAsync(global, "2", "1");
            await ProbeAsync(global, "2", "3");
            await ExpectOkAsync([.. global, "heal"]);
            await ProbeAsync(global, "2", "1");
            Log(clock, $"delay, loss and reorder checked ({kind})");

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
            // Only the node stopped, not the link: the kernel still answers connects to its port.
            await ProbeAsync(global, "root", "2");
            if (wire)
            {
                Assert.Equal(Hosts, WireProcesses(prefix).Count);
            }

            await ExpectOkAsync([.. global, "resume", "2"]);
            await WaitHealthyAsync(net, 2);
            Log(clock, "pause and resume checked");
        }
        finally
        {
            await DestroyAndCheckAsync(global, prefix, state);
        }

        Log(clock, "destroyed");
    }

    [Fact]
    public async Task Veth_links_without_netem_refuse_delay_and_name_the_wire()
    {
        await RequireRootAndIproute2Async();
        using var directory = new TempDirectory();
        var prefix = "ntv" + (Environment.ProcessId % 100_000).ToString(CultureInfo.InvariantCulture);
        var state = directory.Combine("state");
        string[] global = ["--name", prefix, "--state", state];
        try
        {
            var (_, create) = await CreateAsync(global, 1, "--link", "veth");
            Assert.Contains("links: veth", create.Stdout, StringComparison.Ordinal);
            Assert.Empty(WireProcesses(prefix));
            var delay = await RunAsync([.. global, "delay", "1", "50"]);
            if (delay.ExitCode == 0)
            {
                Assert.Contains($"{prefix}-1 eth0 egress: netem delay 50ms", delay.Stdout, StringComparison.Ordinal);
                output.WriteLine("this kernel has netem: veth links take delay");
            }
            else
            {
                Assert.Contains("this kernel has no netem qdisc", delay.Stderr, StringComparison.Ordinal);
                Assert.Contains("create the hosts with --link wire", delay.Stderr, StringComparison.Ordinal);
                var status = await ExpectOkAsync([.. global, "status"]);
                Assert.Matches($@"{prefix}-1 +\S+ +- +- +-", status.Stdout);
            }
        }
        finally
        {
            await DestroyAndCheckAsync(global, prefix, state);
        }
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

        Assert.Contains("--link veth|wire|auto", help.Stdout, StringComparison.Ordinal);
        var link = await RunAsync([.. global, "create", "--hosts", "1", "--link", "cable"]);
        Assert.Equal(1, link.ExitCode);
        Assert.Contains("--link 'cable' is not veth, wire or auto", link.Stderr, StringComparison.Ordinal);

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

    /// <summary>Creates the hosts on the first free 10.77.X.0/24 (X from the pid); returns A.B.C and create's output.</summary>
    private static async Task<(string Net, ToolResult Create)> CreateAsync(string[] global, int hosts, params string[] extra)
    {
        ToolResult create = null!;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var octet = 20 + ((Environment.ProcessId + (attempt * 37)) % 230);
            var candidate = $"10.77.{octet}";
            create = await RunAsync([.. global, "create", "--hosts", hosts.ToString(CultureInfo.InvariantCulture), "--subnet", candidate + ".0/24", .. extra]);
            if (create.ExitCode == 0)
            {
                return (candidate, create);
            }

            Assert.True(create.Stderr.Contains("in use here", StringComparison.Ordinal) || create.Stderr.Contains("routed here", StringComparison.Ordinal), create.Describe());
        }

        Assert.Fail(create.Describe());
        return default;
    }

    /// <summary>Destroys the hosts and checks that no namespace, interface (veth, TAP, bridge), wire or state is left.</summary>
    private static async Task DestroyAndCheckAsync(string[] global, string prefix, string state)
    {
        var destroy = await RunAsync([.. global, "destroy"]);
        var namespaces = await ToolProcess.RunAsync("ip", ["netns", "list"], _scriptTimeout);
        var links = await ToolProcess.RunAsync("ip", ["-o", "link", "show"], _scriptTimeout);
        Assert.True(destroy.ExitCode == 0, destroy.Describe());
        Assert.DoesNotContain(prefix + "-", namespaces.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(" " + prefix + "-", links.Stdout, StringComparison.Ordinal);
        Assert.Empty(WireProcesses(prefix));
        Assert.False(Directory.Exists(state), $"{state} is left after destroy");
    }

    /// <summary>Pids of the running wire.py processes of PREFIX (their command line names a PREFIX-vI TAP).</summary>
    private static List<int> WireProcesses(string prefix)
    {
        var tap = new Regex($"^{Regex.Escape(prefix)}-v[0-9]+$", RegexOptions.CultureInvariant);
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string[] argv;
            string stat;
            try
            {
                argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // A zombie (exited, not yet reaped) has an empty command line and state Z.
            var zombie = stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
            if (!zombie && argv.Any(a => a.EndsWith("/wire.py", StringComparison.Ordinal)) && argv.Any(tap.IsMatch))
            {
                pids.Add(pid);
            }
        }

        return pids;
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

    /// <summary>The fastest of three probes FROM -> TO: one slow answer on a busy machine does not count.</summary>
    private static async Task<double> FastestProbeAsync(string[] global, string from, string to)
    {
        var fastest = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            fastest = Math.Min(fastest, await ProbeAsync(global, from, to));
        }

        return fastest;
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
