using System.Net;
using System.Net.Sockets;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class ErrorTests
{
    [Fact]
    public async Task A_refused_call_prints_the_error_name_and_message_and_exits_1()
    {
        await using var server = await FakeServer.StartAsync();
        server.Streams.On<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>(r =>
            throw FakeStreamsService.Error(StatusCode.NotFound, StreamsErrors.ResourceNotFound, $"Stream '{r.StreamName}' does not exist."));

        var result = await server.RunAsync("stream", "describe", "missing");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal("error: ResourceNotFoundException: Stream 'missing' does not exist.", result.Err.Trim());
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_named()
    {
        var endpoint = $"http://127.0.0.1:{FreePort()}";

        var result = await CliRunner.RunAsync(["stream", "list", "--endpoint", endpoint]);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: cannot reach a Streams node at {endpoint}: ", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_slower_than_the_timeout_says_so()
    {
        await using var server = await FakeServer.StartAsync();
        server.Streams.On<ListStreamsRequest, ListStreamsResponse>(_ =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            return new ListStreamsResponse();
        });

        var result = await server.RunAsync("stream", "list", "--timeout", "100ms");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {server.Endpoint} did not answer within 100ms; raise --timeout to wait longer.", result.Err.Trim());
    }

    [Fact]
    public async Task The_endpoint_comes_from_STREAMS_ENDPOINT_when_not_given()
    {
        await using var server = await FakeServer.StartAsync();
        server.Streams.On<ListStreamsRequest, ListStreamsResponse>(_ => new ListStreamsResponse { StreamNames = { "from-env" } });
        Environment.SetEnvironmentVariable("STREAMS_ENDPOINT", server.Endpoint);
        try
        {
            var result = await CliRunner.RunAsync(["stream", "list"]);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal("from-env", Assert.Single(result.Lines));
        }
        finally
        {
            Environment.SetEnvironmentVariable("STREAMS_ENDPOINT", null);
        }
    }

    [Theory]
    [InlineData("stream", "create", "orders")]
    [InlineData("stream", "create", "orders", "--shards", "zero")]
    [InlineData("stream", "frobnicate")]
    [InlineData("put", "orders", "a", "--partition-key", "k", "--key-from-line-number")]
    [InlineData("get", "orders", "--from", "yesterday")]
    [InlineData("get", "orders", "--from", "at:5")]
    [InlineData("stream", "list", "--timeout", "soon")]
    [InlineData("stream", "list", "--output", "yaml")]
    [InlineData("stream", "list", "--endpoint", "not a url")]
    public async Task Bad_usage_exits_2(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Err, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Start_help_prints_the_nodes_usage()
    {
        var result = await CliRunner.RunAsync(["start", "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--node-id ID", result.Out, StringComparison.Ordinal);
        Assert.Contains("--data-dir PATH", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_passes_its_options_to_the_node()
    {
        // An invalid value: the node refuses it before it binds or writes anything.
        var result = await CliRunner.RunAsync(["start", "--node-id", "n1", "--grpc-port", "not-a-port"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid configuration", result.Err, StringComparison.Ordinal);
        Assert.Contains("Node:GrpcPort", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var result = await CliRunner.RunAsync(["--help"]);

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "start", "stream", "put", "get", "tail", "cluster" })
        {
            Assert.Contains($"  {command}", result.Out, StringComparison.Ordinal);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
