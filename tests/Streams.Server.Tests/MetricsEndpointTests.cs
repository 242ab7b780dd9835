using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Streams.Server.Telemetry;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Tests;

/// <summary><c>/metrics</c> on a real node: what it serves, where, and that another parser reads it.</summary>
public sealed partial class MetricsEndpointTests
{
    private const string HealthService = "grpc.health.v1.Health";
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    [Fact]
    public async Task Metrics_on_the_http_port_count_the_grpc_calls_served()
    {
        await using var node = await TestNode.StartAsync();
        const int Calls = 3;
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        }

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(node.Node.HttpAddress, "/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal(ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE rpc_server_duration_milliseconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("# HELP rpc_server_duration_milliseconds Duration of served gRPC calls, by method and status code.\n", text, StringComparison.Ordinal);
        var labels = $"rpc_grpc_status_code=\"0\",rpc_method=\"Check\",rpc_service=\"{HealthService}\"";
        Assert.Equal(Calls, Value(text, $"rpc_server_duration_milliseconds_bucket{{{labels},le=\"+Inf\"}}"));
        Assert.Equal(Calls, Value(text, $"rpc_server_duration_milliseconds_count{{{labels}}}"));
        Assert.True(Value(text, $"rpc_server_duration_milliseconds_sum{{{labels}}}") > 0, text);

        // Buckets are cumulative: never decreasing, ending at the count.
        var buckets = Samples(text).Where(s => s.Key.StartsWith($"rpc_server_duration_milliseconds_bucket{{{labels},", StringComparison.Ordinal)).Select(s => s.Value).ToList();
        Assert.Equal(17, buckets.Count);
        Assert.Equal(buckets.Order(), buckets);
    }

    [Fact]
    public async Task Head_metrics_answers_without_a_body()
    {
        await using var node = await TestNode.StartAsync();
        using var http = new HttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(node.Node.HttpAddress, "/metrics"));
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_grpc_port_does_not_serve_metrics()
    {
        await using var node = await TestNode.StartAsync();
        Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        using var http = new HttpClient
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.GetAsync(new Uri(node.Node.GrpcAddress, "/metrics"));

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("rpc_server_duration", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_official_python_client_parses_the_endpoint()
    {
        await using var node = await TestNode.StartAsync();
        const int Calls = 2;
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.Node.GrpcAddress));
        }

        // Instruments of every kind on a meter of this node's factory, as later issues will add.
        const string Awkward = "say \"hi\"\\ \nbye";
        var meter = node.Node.Services.GetRequiredService<IMeterFactory>().Create("Streams.Test.Parse");
        var records = meter.CreateCounter<long>("streams.test.records", "{record}", "Records appended.");
        records.Add(5, new KeyValuePair<string, object?>("stream.name", "orders"));
        records.Add(2, new KeyValuePair<string, object?>("stream.name", Awkward));
        meter.CreateUpDownCounter<int>("streams.test.leases", description: "Leases held.").Add(4);
        meter.CreateObservableGauge("streams.test.lag", () => 1.5, "s", "Replication lag.");
        meter.CreateObservableCounter("streams.test.bytes", () => 2048L, "By", "Bytes written."); // already ends with its unit
        meter.CreateHistogram<double>("streams.test.batch.size", "By", "Batch sizes.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [100, 1000] }).Record(512);

        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(node.Node.HttpAddress, "/metrics"));
        var families = await PrometheusClientParser.ParseAsync(text);

        // Every sample landed in a typed family: a sample whose name does not fit its family's
        // TYPE would have come back as an "unknown" family of its own.
        Assert.All(families, f => Assert.NotEqual("unknown", f.Type));
        Assert.Equal(
            [
                ("rpc_server_duration_milliseconds", "histogram", 16 + 1 + 2),
                ("streams_test_batch_size_bytes", "histogram", 2 + 1 + 2),
                ("streams_test_bytes", "counter", 1),
                ("streams_test_lag_seconds", "gauge", 1),
                ("streams_test_leases", "gauge", 1),
                ("streams_test_records", "counter", 2),
            ],
            families
                .Where(f => f.Name.StartsWith("streams_test_", StringComparison.Ordinal) || f.Name.StartsWith("rpc_", StringComparison.Ordinal))
                .Select(f => (f.Name, f.Type, f.Samples.Count))
                .OrderBy(f => f.Name, StringComparer.Ordinal));

        var rpc = families.Single(f => f.Name == "rpc_server_duration_milliseconds");
        Assert.Equal("Duration of served gRPC calls, by method and status code.", rpc.Documentation);
        var count = rpc.Samples.Single(s => s.Name == "rpc_server_duration_milliseconds_count");
        Assert.Equal("Check", count.Labels["rpc_method"]);
        Assert.Equal(HealthService, count.Labels["rpc_service"]);
        Assert.Equal("0", count.Labels["rpc_grpc_status_code"]);
        Assert.Equal(Calls, count.Value);
        var infinity = rpc.Samples.Single(s => s.Name == "rpc_server_duration_milliseconds_bucket" && s.Labels["le"] == "+Inf");
        Assert.Equal(Calls, infinity.Value);

        var counter = families.Single(f => f.Name == "streams_test_records");
        Assert.All(counter.Samples, s => Assert.Equal("streams_test_records_total", s.Name));
        Assert.Equal(2, counter.Samples.Single(s => s.Labels["stream_name"] == Awkward).Value);
        Assert.Equal(5, counter.Samples.Single(s => s.Labels["stream_name"] == "orders").Value);
        Assert.Equal(2048, families.Single(f => f.Name == "streams_test_bytes").Samples.Single().Value);
        Assert.Equal(1.5, families.Single(f => f.Name == "streams_test_lag_seconds").Samples.Single().Value);
        Assert.Equal(4, families.Single(f => f.Name == "streams_test_leases").Samples.Single().Value);
        var batch = families.Single(f => f.Name == "streams_test_batch_size_bytes").Samples;
        Assert.Equal([0, 1, 1], batch.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).Select(s => s.Value));
        Assert.Equal(512, batch.Single(s => s.Name == "streams_test_batch_size_bytes_sum").Value);
    }

    [Fact]
    public void The_content_type_is_the_prometheus_text_format() =>
        Assert.Equal(ContentType, PrometheusText.ContentType);

    private static double Value(string text, string series)
    {
        var matches = Samples(text).Where(s => s.Key == series).ToList();
        Assert.True(matches.Count == 1, $"Expected one sample {series}, found {matches.Count} in:\n{text}");
        return matches[0].Value;
    }

    private static IEnumerable<KeyValuePair<string, double>> Samples(string text) =>
        text.Split('\n')
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success)
            .Select(m => KeyValuePair.Create(m.Groups["series"].Value, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));

    [GeneratedRegex(@"^(?<series>[^{ ]+(\{.*\})?) (?<value>\S+)$")]
    private static partial Regex SampleLine();
}
