using System.Net;
using System.Text.Json;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Tests;

/// <summary>The real program as a child process: startup errors, the listening line, SIGTERM.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task An_invalid_setting_exits_with_code_2_and_names_it_without_a_stack_trace()
    {
        using var directory = new TempDirectory();
        using var server = ServerProcess.Start(directory.Path, "--grpc-port", "70000");

        var exitCode = await server.WaitForExitAsync();

        Assert.Equal(2, exitCode);
        Assert.Contains("Node:GrpcPort (--grpc-port) is 70000", server.Stderr, StringComparison.Ordinal);
        Assert.Contains("between 0 and 65535", server.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", server.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, server.Stdout);
    }

    [Fact]
    public async Task The_program_serves_until_sigterm_then_exits_0()
    {
        using var directory = new TempDirectory();
        var data = directory.Combine("data");
        using var server = ServerProcess.Start(directory.Path, "--grpc-port", "0", "--http-port", "0", "--data-dir", data, "--node-id", "proc-1", "--log-format", "json");

        var (grpc, http) = await server.WaitForListeningAsync();
        Assert.True(Directory.Exists(data));
        using (var client = new HttpClient())
        {
            using var response = await client.GetAsync(new Uri(http, "/healthz"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(grpc));

        await server.TerminateAsync();
        var exitCode = await server.WaitForExitAsync();

        Assert.True(exitCode == 0, $"Exit code {exitCode}; stderr:\n{server.Stderr}");

        // Standard output holds the listening line and nothing else.
        var stdout = server.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([$"streams: listening grpc={grpc.GetLeftPart(UriPartial.Authority)} http={http.GetLeftPart(UriPartial.Authority)}"], stdout);

        // Logs (JSON here) go to standard error, one object per line, with our stable event ids.
        var entries = server.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var serving = Assert.Single(entries, e => e.GetProperty("EventId").GetInt32() == 1001);
        Assert.Equal("proc-1", serving.GetProperty("State").GetProperty("NodeId").GetString());
        Assert.Equal(grpc.GetLeftPart(UriPartial.Authority), serving.GetProperty("State").GetProperty("GrpcAddress").GetString());
        Assert.Single(entries, e => e.GetProperty("EventId").GetInt32() == 1003);
    }

    [Fact]
    public async Task A_port_in_use_exits_with_code_1_and_says_so()
    {
        await using var node = await TestNode.StartAsync();
        using var directory = new TempDirectory();
        var taken = node.Node.GrpcAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var server = ServerProcess.Start(directory.Path, "--grpc-port", taken, "--http-port", "0", "--data-dir", directory.Combine("data"));

        Assert.Equal(1, await server.WaitForExitAsync());
        Assert.Contains($"streams: could not start: Failed to bind to address http://127.0.0.1:{taken}: address already in use.", server.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, server.Stdout);
    }

    [Fact]
    public async Task Help_prints_usage_and_exits_0()
    {
        using var directory = new TempDirectory();
        using var server = ServerProcess.Start(directory.Path, "--help");

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("--grpc-port PORT", server.Stdout, StringComparison.Ordinal);
        Assert.Contains("STREAMS_Node__GrpcPort", server.Stdout, StringComparison.Ordinal);
    }
}
