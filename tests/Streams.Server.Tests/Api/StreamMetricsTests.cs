using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>The Streams metrics on /metrics, parsed by Python's prometheus_client.</summary>
public sealed class StreamMetricsTests
{
    [Fact]
    public async Task Puts_and_gets_show_per_stream_counters_latency_raft_and_shard_gauges()
    {
        await using var api = await ApiNode.StartAsync();
        await api.CreateActiveStreamAsync("metered", 1);
        var put = new PutRecordsRequest { StreamName = "metered" };
        for (var i = 0; i < 7; i++)
        {
            put.Records.Add(ApiNode.Entry($"k{i}", "0123456789"));
        }

        await api.Streams.PutRecordsAsync(put, ApiNode.Deadline());
        var read = await api.ReadShardAsync("metered", "shardId-000000000000");
        Assert.Equal(7, read.Count);

        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(api.Node.Node.HttpAddress, "/metrics"));
        var families = (await PrometheusClientParser.ParseAsync(text)).ToDictionary(f => f.Name);

        double Sample(string family, string sample) =>
            families[family].Samples.Where(s => s.Name == sample && s.Labels.GetValueOrDefault("stream") == "metered").Sum(s => s.Value);

        Assert.Equal(7, Sample("streams_records_in", "streams_records_in_total"));
        Assert.Equal(70, Sample("streams_bytes_in_bytes", "streams_bytes_in_bytes_total"));
        Assert.Equal(7, Sample("streams_records_out", "streams_records_out_total"));
        Assert.Equal(70, Sample("streams_bytes_out_bytes", "streams_bytes_out_bytes_total"));
        Assert.Equal(1, Sample("streams_put_duration_seconds", "streams_put_duration_seconds_count"));
        Assert.True(Sample("streams_get_duration_seconds", "streams_get_duration_seconds_count") >= 1);
        Assert.Equal("histogram", families["streams_put_duration_seconds"].Type);
        Assert.Contains(families["streams_shard_segment_bytes"].Samples, s => s.Labels.GetValueOrDefault("stream") == "metered" && s.Value > 70);
        Assert.Contains(families["streams_shard_commit_lag"].Samples, s => s.Labels.GetValueOrDefault("shard") == "shardId-000000000000");
        Assert.True(families["streams_raft_term"].Samples.Count >= 2, "a term per Raft group: the controller and the shard");
        Assert.True(families.ContainsKey("streams_raft_leader_changes"), "leader changes are counted");
    }
}
