using System.Text.Json;

namespace Streams.Server.Tests.Interop;

/// <summary>
/// A client nobody here wrote: Python grpcio with stubs generated from streams.proto
/// (tests/interop/python/streams_client.py) against the real node process.
/// </summary>
public sealed class PythonClientTests
{
    private const string DebianPackages = "python3-grpcio python3-grpc-tools python3-protobuf";

    private static readonly TimeSpan _toolTimeout = TimeSpan.FromSeconds(120);

    private static string Script => Path.Combine(ToolProcess.RepoRoot, "tests/interop/python/streams_client.py");

    [Fact]
    public async Task A_python_grpcio_client_creates_puts_reads_subscribes_and_deletes()
    {
        using var directory = new TempDirectory();
        var stubs = await GenerateStubsAsync(directory.Combine("stubs"));
        using var server = ServerProcess.Start(directory.Path, "--grpc-port", "0", "--http-port", "0", "--data-dir", directory.Combine("data"), "--Cluster:TickMilliseconds", "10");
        var (grpc, _) = await server.WaitForListeningAsync();

        var run = await ToolProcess.RunAsync(ToolProcess.Python, [Script, "--endpoint", grpc.GetLeftPart(UriPartial.Authority), "--stubs", stubs, "--stream", "python-orders"], _toolTimeout);

        Assert.True(run.ExitCode == 0, $"The Python client failed:\n{run.Describe()}\n--- server stderr\n{server.Stderr}");
        var summary = LastJsonLine(run);
        Assert.True(summary.GetProperty("ok").GetBoolean(), run.Describe());
        Assert.Equal("python-orders", summary.GetProperty("stream").GetString());
        Assert.Equal(2, summary.GetProperty("shards").GetInt32());
        Assert.Equal(100, summary.GetProperty("put_records").GetInt32());
        var single = summary.GetProperty("put_record").GetInt32();
        Assert.True(single > 0, run.Describe());
        Assert.Equal(100 + single, summary.GetProperty("read").GetInt32());
        var perShard = summary.GetProperty("read_per_shard").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], perShard.Keys.Order());
        Assert.Equal(100 + single, perShard.Values.Sum());

        var subscribe = summary.GetProperty("subscribe");
        Assert.Contains(subscribe.GetProperty("shard").GetString(), perShard.Keys);
        Assert.False(string.IsNullOrEmpty(subscribe.GetProperty("sequence_number").GetString()), run.Describe());

        var invalid = summary.GetProperty("invalid_argument");
        Assert.Equal("INVALID_ARGUMENT", invalid.GetProperty("code").GetString());
        Assert.Equal("InvalidArgumentException", invalid.GetProperty("streams_error").GetString());
        Assert.Contains("partition_key", invalid.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("gone", summary.GetProperty("deleted").GetString());

        await server.TerminateAsync();
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task The_python_client_fails_with_a_message_when_no_node_answers()
    {
        using var directory = new TempDirectory();
        var stubs = await GenerateStubsAsync(directory.Combine("stubs"));
        var port = FreePort();

        var run = await ToolProcess.RunAsync(ToolProcess.Python, [Script, "--endpoint", $"127.0.0.1:{port}", "--stubs", stubs], _toolTimeout);

        Assert.True(run.ExitCode == 1, run.Describe());
        var summary = LastJsonLine(run);
        Assert.False(summary.GetProperty("ok").GetBoolean());
        Assert.Contains("CreateStream failed: UNAVAILABLE", summary.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("FAILED", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs grpc_tools.protoc on streams.proto into <paramref name="output"/>; fails the test,
    /// naming the Debian packages, when the Python cannot import grpcio or grpc_tools.
    /// </summary>
    private static async Task<string> GenerateStubsAsync(string output)
    {
        var python = ToolProcess.Python;
        if (!File.Exists(python))
        {
            Assert.Fail($"{python} does not exist. These tests need a python3 with grpcio and grpc_tools: install the Debian packages {DebianPackages} (scripts/test.sh does) and run with STREAMS_PYTHON=/usr/bin/python3.");
        }

        var probe = await ToolProcess.RunAsync(python, ["-c", "import grpc, grpc_tools.protoc, google.protobuf"], _toolTimeout);
        if (probe.ExitCode != 0)
        {
            Assert.Fail($"{python} cannot import grpcio, grpc_tools or protobuf. Install the Debian packages {DebianPackages} (scripts/test.sh does), or point STREAMS_PYTHON at a python3 that has them (Debian's /usr/bin/python3).\n{probe.Describe()}");
        }

        Directory.CreateDirectory(output);
        var proto = Path.Combine(ToolProcess.RepoRoot, "proto");
        var protoc = await ToolProcess.RunAsync(
            python,
            ["-m", "grpc_tools.protoc", "-I", proto, $"--python_out={output}", $"--grpc_python_out={output}", Path.Combine(proto, "streams/v1/streams.proto")],
            _toolTimeout);
        Assert.True(protoc.ExitCode == 0, $"grpc_tools.protoc failed:\n{protoc.Describe()}");
        Assert.True(File.Exists(Path.Combine(output, "streams/v1/streams_pb2_grpc.py")), $"grpc_tools.protoc wrote no streams/v1/streams_pb2_grpc.py:\n{protoc.Describe()}");
        return output;
    }

    private static JsonElement LastJsonLine(ToolResult run)
    {
        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        Assert.True(line is not null && line.StartsWith('{'), $"The Python client printed no JSON summary:\n{run.Describe()}");
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
