using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Server.Telemetry;

namespace Streams.Server.Tests;

/// <summary>
/// The Prometheus text the exposition renders for private meters. Each test's meter has its own
/// scope object and the exposition only listens to that scope, so nodes and other tests running
/// at the same time cannot add to it (nor it to them).
/// </summary>
public sealed class PrometheusExpositionTests
{
    private readonly object _scope = new();

    [Fact]
    public void Renders_counters_gauges_and_histograms_with_escaped_labels()
    {
        using var meter = NewMeter("Streams.Test.Formatter");
        using var exposition = NewExposition();
        exposition.Start();

        var requests = meter.CreateCounter<long>("test.requests", unit: "{request}", description: "Requests served.");
        requests.Add(2, new KeyValuePair<string, object?>("http.route", "/a"));
        requests.Add(3, new KeyValuePair<string, object?>("http.route", "/a"));
        requests.Add(1, new KeyValuePair<string, object?>("http.route", "say \"hi\"\\ \nbye"));

        var inFlight = meter.CreateUpDownCounter<int>("test.in_flight", description: "Calls in flight.\nA second line with a \\ backslash.");
        inFlight.Add(3);
        inFlight.Add(-1);

        meter.CreateObservableGauge<double>(
            "test.temperature",
            () => [new Measurement<double>(21.5, new KeyValuePair<string, object?>("room", "lab")), new Measurement<double>(-4, new KeyValuePair<string, object?>("room", "roof"))],
            unit: "Cel",
            description: "Temperature \"now\".");

        var latency = meter.CreateHistogram<double>(
            "test.latency",
            unit: "s",
            description: "Latency.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1] });
        KeyValuePair<string, object?>[] tags = [new("1st", true), new("code", 0)];
        latency.Record(0.005, tags);
        latency.Record(0.1, tags); // on a bound: counted in that bucket (le is inclusive)
        latency.Record(0.25, tags);
        latency.Record(5, tags);

        const string Expected = """
            # HELP test_in_flight Calls in flight.\nA second line with a \\ backslash.
            # TYPE test_in_flight gauge
            test_in_flight 2
            # HELP test_latency_seconds Latency.
            # TYPE test_latency_seconds histogram
            test_latency_seconds_bucket{_1st="true",code="0",le="0.01"} 1
            test_latency_seconds_bucket{_1st="true",code="0",le="0.1"} 2
            test_latency_seconds_bucket{_1st="true",code="0",le="1"} 3
            test_latency_seconds_bucket{_1st="true",code="0",le="+Inf"} 4
            test_latency_seconds_sum{_1st="true",code="0"} 5.355
            test_latency_seconds_count{_1st="true",code="0"} 4
            # HELP test_requests_total Requests served.
            # TYPE test_requests_total counter
            test_requests_total{http_route="/a"} 5
            test_requests_total{http_route="say \"hi\"\\ \nbye"} 1
            # HELP test_temperature_celsius Temperature "now".
            # TYPE test_temperature_celsius gauge
            test_temperature_celsius{room="lab"} 21.5
            test_temperature_celsius{room="roof"} -4

            """;
        Assert.Equal(Expected.ReplaceLineEndings("\n"), exposition.Scrape());
    }

    [Fact]
    public void Uses_millisecond_buckets_by_default_and_seconds_buckets_for_seconds()
    {
        using var meter = NewMeter("Streams.Test.Defaults");
        using var exposition = NewExposition();
        exposition.Start();
        meter.CreateHistogram<long>("test.ms", unit: "ms").Record(7);
        meter.CreateHistogram<double>("test.s", unit: "s").Record(0.007);

        var text = exposition.Scrape();

        var ms = Buckets(text, "test_ms_milliseconds_bucket");
        Assert.Equal(["0.1", "0.25", "0.5", "1", "2.5", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf"], ms.Select(b => b.Le));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], ms.Select(b => b.Count));
        var s = Buckets(text, "test_s_seconds_bucket");
        Assert.Equal(["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"], s.Select(b => b.Le));
        Assert.Equal(ms.Select(b => b.Count), s.Select(b => b.Count));
        Assert.Contains("test_ms_milliseconds_sum 7\n", text, StringComparison.Ordinal);
        Assert.Contains("test_ms_milliseconds_count 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_tags_in_another_order_are_one_series()
    {
        using var meter = NewMeter("Streams.Test.Order");
        using var exposition = NewExposition();
        exposition.Start();
        var counter = meter.CreateCounter<double>("test.things");

        counter.Add(1.5, new("b", "2"), new("a", "1"));
        counter.Add(1, new("a", "1"), new("b", "2"));
        counter.Add(1, new("a", "1"), new("b", "2"));

        Assert.Equal("# TYPE test_things_total counter\ntest_things_total{a=\"1\",b=\"2\"} 3.5\n", exposition.Scrape());
    }

    [Fact]
    public void Observable_series_not_reported_any_more_disappear()
    {
        using var meter = NewMeter("Streams.Test.Observable");
        using var exposition = NewExposition();
        exposition.Start();
        var shards = new List<string> { "shardId-000000000000", "shardId-000000000001" };
        var observations = 0;
        meter.CreateObservableCounter(
            "test.appended",
            () => shards.Select(s => new Measurement<long>(10 * ++observations, new KeyValuePair<string, object?>("shard", s))),
            unit: "By");
        meter.CreateObservableUpDownCounter("test.leases", () => shards.Count);

        Assert.Equal(
            """
            # TYPE test_appended_bytes_total counter
            test_appended_bytes_total{shard="shardId-000000000000"} 10
            test_appended_bytes_total{shard="shardId-000000000001"} 20
            # TYPE test_leases gauge
            test_leases 2

            """.ReplaceLineEndings("\n"),
            exposition.Scrape());

        shards.RemoveAt(0);

        Assert.Equal(
            """
            # TYPE test_appended_bytes_total counter
            test_appended_bytes_total{shard="shardId-000000000001"} 30
            # TYPE test_leases gauge
            test_leases 1

            """.ReplaceLineEndings("\n"),
            exposition.Scrape());
    }

    [Fact]
    public void Only_streams_meters_of_its_scope_are_exposed_and_a_disposed_meter_goes_away()
    {
        using var exposition = NewExposition();
        exposition.Start();
        using var other = new Meter(new MeterOptions("Other.Test") { Scope = _scope });
        using var foreign = new Meter(new MeterOptions("Streams.Test.Foreign") { Scope = new object() });
        var meter = NewMeter("Streams.Test.Mine");
        other.CreateCounter<int>("other.count").Add(1);
        foreign.CreateCounter<int>("foreign.count").Add(1);
        meter.CreateGauge<int>("mine.level").Record(7);
        meter.CreateGauge<int>("mine.level").Record(8);

        Assert.Equal("# TYPE mine_level gauge\nmine_level 8\n", exposition.Scrape());

        meter.Dispose();
        Assert.Equal(string.Empty, exposition.Scrape());
    }

    [Fact]
    public void Label_sets_beyond_the_limit_go_to_the_overflow_series()
    {
        using var meter = NewMeter("Streams.Test.Overflow");
        using var exposition = NewExposition();
        exposition.Start();
        var counter = meter.CreateCounter<long>("test.keys");

        for (var i = 0; i < PrometheusInstrument.MaxSeries + 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("key", i));
        }

        var lines = exposition.Scrape().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(PrometheusInstrument.MaxSeries + 2, lines.Length); // the TYPE line, the series, the overflow
        Assert.Contains("test_keys_total{otel_metric_overflow=\"true\"} 10", lines);
    }

    [Fact]
    public void An_instrument_whose_metric_name_is_taken_is_left_out()
    {
        using var meter = NewMeter("Streams.Test.Conflict");
        using var exposition = NewExposition();
        exposition.Start();
        meter.CreateCounter<int>("test.jobs").Add(1);
        meter.CreateUpDownCounter<int>("test.jobs.total").Add(5);
        meter.CreateCounter<int>("test_jobs").Add(2);

        // All three map to test_jobs_total: the first instrument published keeps the name.
        Assert.Equal("# TYPE test_jobs_total counter\ntest_jobs_total 1\n", exposition.Scrape());
    }

    [Fact]
    public void Stopping_forgets_everything()
    {
        using var meter = NewMeter("Streams.Test.Stop");
        using var exposition = NewExposition();
        exposition.Start();
        meter.CreateCounter<int>("test.count").Add(1);
        Assert.NotEmpty(exposition.Scrape());

        exposition.Stop();

        Assert.Equal(string.Empty, exposition.Scrape());
    }

    [Theory]
    [InlineData("rpc.server.duration", "ms", "Histogram", "rpc_server_duration_milliseconds")]
    [InlineData("streams.records.appended", "{record}", "Counter", "streams_records_appended_total")]
    [InlineData("streams.bytes.appended", "By", "Counter", "streams_bytes_appended_bytes_total")]
    [InlineData("streams.appended.total", "By", "Counter", "streams_appended_bytes_total")]
    [InlineData("streams.throughput", "By/s", "Gauge", "streams_throughput_bytes_per_second")]
    [InlineData("streams.rate", "{record}/s", "Gauge", "streams_rate_per_second")]
    [InlineData("streams.disk.usage", "1", "Gauge", "streams_disk_usage_ratio")]
    [InlineData("streams.retries", "1", "Counter", "streams_retries_total")]
    [InlineData("streams.lag_milliseconds", "ms", "Gauge", "streams_lag_milliseconds")]
    [InlineData("streams..odd--name", null, "Gauge", "streams_odd_name")]
    [InlineData("2xx.responses", "", "Counter", "_2xx_responses_total")]
    [InlineData("streams.ratio:x", "%", "Gauge", "streams_ratio:x_percent")]
    [InlineData("streams.size", "furlongs", "Gauge", "streams_size_furlongs")]
    public void Metric_names_follow_the_prometheus_conventions(string instrument, string? unit, string type, string expected) =>
        Assert.Equal(expected, PrometheusNames.MetricName(instrument, unit, Enum.Parse<PrometheusMetricType>(type)));

    [Theory]
    [InlineData("rpc.grpc.status_code", "rpc_grpc_status_code")]
    [InlineData("rpc.method", "rpc_method")]
    [InlineData("9lives", "_9lives")]
    [InlineData("a:b-c", "a_b_c")]
    [InlineData("", "_")]
    public void Label_names_are_sanitized(string key, string expected) =>
        Assert.Equal(expected, PrometheusNames.LabelName(key));

    private Meter NewMeter(string name) => new(new MeterOptions(name) { Scope = _scope });

    private PrometheusExposition NewExposition() => new(meter => ReferenceEquals(meter.Scope, _scope), NullLogger.Instance);

    private static List<(string Le, long Count)> Buckets(string text, string bucketName) =>
        [.. text.Split('\n')
            .Where(line => line.StartsWith(bucketName + "{", StringComparison.Ordinal))
            .Select(line =>
            {
                var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..line.IndexOf("\"}", StringComparison.Ordinal)];
                return (le, long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            })];
}
