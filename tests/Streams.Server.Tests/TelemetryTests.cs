using System.Text;
using Streams.Server.Configuration;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Tests;

/// <summary>
/// Traces and metrics reach an OTLP collector. The metric export interval is left at a minute,
/// so the metrics that arrive were sent by the flush at shutdown.
/// </summary>
public sealed class TelemetryTests
{
    [Theory]
    [InlineData(TelemetryOptions.HttpProtobufProtocol, FakeCollector.TracesPath, FakeCollector.MetricsPath)]
    [InlineData(TelemetryOptions.GrpcProtocol, FakeCollector.GrpcTracesPath, FakeCollector.GrpcMetricsPath)]
    public async Task Stopping_the_node_flushes_traces_and_metrics_to_the_collector(string protocol, string tracesPath, string metricsPath)
    {
        await using var collector = await FakeCollector.StartAsync(grpc: protocol == TelemetryOptions.GrpcProtocol);
        await using var node = await TestNode.StartAsync(
            ["--node-id", "otel-node", "--otlp-endpoint", collector.Address.ToString(), "--Telemetry:OtlpProtocol", protocol]);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        }

        await node.Node.StopAsync();

        var traces = collector.Received.To(tracesPath);
        Assert.NotEmpty(traces);
        var traceText = Text(traces);
        Assert.Contains("grpc.health.v1.Health/Check", traceText, StringComparison.Ordinal);
        Assert.Contains("streams", traceText, StringComparison.Ordinal);
        Assert.Contains("streams.node.id", traceText, StringComparison.Ordinal);
        Assert.Contains("otel-node", traceText, StringComparison.Ordinal);

        var metrics = collector.Received.To(metricsPath);
        Assert.NotEmpty(metrics);
        var metricText = Text(metrics);
        Assert.Contains("rpc.server.duration", metricText, StringComparison.Ordinal);
        Assert.Contains("Streams.Rpc", metricText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_exported()
    {
        await using var collector = await FakeCollector.StartAsync(grpc: false);
        await using var node = await TestNode.StartAsync();

        Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        await node.Node.StopAsync();

        Assert.False(node.Node.Telemetry.ExportEnabled);
        Assert.Empty(collector.Received.To(FakeCollector.TracesPath));
    }

    // Protobuf keeps strings as UTF-8 bytes, so names can be found in the raw export.
    private static string Text(IEnumerable<byte[]> bodies) => string.Join("\n", bodies.Select(b => Encoding.UTF8.GetString(b)));
}
