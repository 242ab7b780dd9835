using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class StreamCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Create_sends_the_stream_settings()
    {
        _server.Streams.On<CreateStreamRequest, CreateStreamResponse>(_ => new CreateStreamResponse());

        var result = await _server.RunAsync("stream", "create", "orders", "--shards", "4", "--replication-factor", "3", "--retention-hours", "48");

        Assert.Equal(0, result.ExitCode);
        var request = Assert.Single(_server.Streams.Requests<CreateStreamRequest>());
        Assert.Equal(new CreateStreamRequest { StreamName = "orders", ShardCount = 4, ReplicationFactor = 3, RetentionPeriodHours = 48 }, request);
        Assert.Equal("created stream orders with 4 shard(s)", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task List_follows_every_page()
    {
        _server.Streams.On<ListStreamsRequest, ListStreamsResponse>(request => request.NextToken switch
        {
            "" => new ListStreamsResponse { StreamNames = { "a", "b" }, HasMoreStreams = true, NextToken = "page-2" },
            "page-2" => new ListStreamsResponse { StreamNames = { "c", "d" }, HasMoreStreams = true, NextToken = "page-3" },
            _ => new ListStreamsResponse { StreamNames = { "e" } },
        });

        var result = await _server.RunAsync("stream", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["a", "b", "c", "d", "e"], result.Lines);
        Assert.Equal(["", "page-2", "page-3"], _server.Streams.Requests<ListStreamsRequest>().Select(r => r.NextToken));
    }

    [Fact]
    public async Task List_stops_at_the_limit()
    {
        _server.Streams.On<ListStreamsRequest, ListStreamsResponse>(request => request.NextToken switch
        {
            "" => new ListStreamsResponse { StreamNames = { "a", "b" }, HasMoreStreams = true, NextToken = "page-2" },
            _ => new ListStreamsResponse { StreamNames = { "c", "d" }, HasMoreStreams = true, NextToken = "page-3" },
        });

        var result = await _server.RunAsync("stream", "list", "--limit", "3");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["a", "b", "c"], result.Lines);
        Assert.Equal([3, 1], _server.Streams.Requests<ListStreamsRequest>().Select(r => r.Limit));
    }

    [Fact]
    public async Task List_prints_a_table_when_the_server_sends_summaries()
    {
        _server.Streams.On<ListStreamsRequest, ListStreamsResponse>(_ => new ListStreamsResponse
        {
            StreamNames = { "orders" },
            StreamSummaries =
            {
                new StreamSummary
                {
                    StreamName = "orders",
                    StreamStatus = StreamStatus.Active,
                    StreamCreationTimestamp = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero)),
                },
            },
        });

        var result = await _server.RunAsync("stream", "list");

        Assert.Equal(["NAME    STATUS  CREATED", "orders  ACTIVE  2025-03-01 12:00:00Z"], result.Lines);
    }

    [Fact]
    public async Task Describe_prints_the_summary_and_every_page_of_shards()
    {
        _server.Streams.On<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>(_ => new DescribeStreamSummaryResponse
        {
            StreamDescriptionSummary = new StreamDescriptionSummary
            {
                StreamName = "orders",
                StreamStatus = StreamStatus.Active,
                RetentionPeriodHours = 24,
                OpenShardCount = 2,
                ShardCount = 3,
                ReplicationFactor = 3,
            },
        });
        _server.Streams.On<ListShardsRequest, ListShardsResponse>(request => request.NextToken switch
        {
            "" => new ListShardsResponse { Shards = { Shard("shardId-000000000000", "0", "99", "1", "50") }, NextToken = "more" },
            _ => new ListShardsResponse
            {
                Shards =
                {
                    Shard("shardId-000000000001", "0", "49", "51", "", parent: "shardId-000000000000"),
                    Shard("shardId-000000000002", "50", "99", "52", "", parent: "shardId-000000000000"),
                },
            },
        });

        var result = await _server.RunAsync("stream", "describe", "orders");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("status       ACTIVE", result.Lines);
        Assert.Contains("shards       3 (2 open)", result.Lines);
        Assert.Equal("SHARD                 HASH KEY RANGE  SEQUENCE RANGE  PARENTS               REPLICAS       LEADER", result.Lines[6]);
        Assert.Equal("shardId-000000000000  0-99            1-50            -                     node-1,node-2  node-1", result.Lines[7]);
        Assert.Equal("shardId-000000000002  50-99           52-             shardId-000000000000  node-1,node-2  node-1", result.Lines[9]);
        var requests = _server.Streams.Requests<ListShardsRequest>();
        Assert.Equal([new ListShardsRequest { StreamName = "orders" }, new ListShardsRequest { NextToken = "more" }], requests);
    }

    [Fact]
    public async Task Describe_as_json_holds_the_summary_and_the_shards()
    {
        _server.Streams.On<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>(_ => new DescribeStreamSummaryResponse
        {
            StreamDescriptionSummary = new StreamDescriptionSummary { StreamName = "orders", StreamStatus = StreamStatus.Active },
        });
        _server.Streams.On<ListShardsRequest, ListShardsResponse>(_ => new ListShardsResponse { Shards = { Shard("shardId-000000000000", "0", "99", "1", "") } });

        var result = await _server.RunAsync("stream", "describe", "orders", "--output", "json");

        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal("STREAM_STATUS_ACTIVE", json.RootElement.GetProperty("stream_description_summary").GetProperty("stream_status").GetString());
        Assert.Equal("shardId-000000000000", json.RootElement.GetProperty("shards")[0].GetProperty("shard_id").GetString());
    }

    [Fact]
    public async Task Delete_names_the_stream()
    {
        _server.Streams.On<DeleteStreamRequest, DeleteStreamResponse>(_ => new DeleteStreamResponse());

        var result = await _server.RunAsync("stream", "delete", "orders");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("orders", Assert.Single(_server.Streams.Requests<DeleteStreamRequest>()).StreamName);
        Assert.Equal("deleted stream orders", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Split_merge_and_scale_send_their_requests()
    {
        _server.Streams.On<SplitShardRequest, SplitShardResponse>(_ => new SplitShardResponse());
        _server.Streams.On<MergeShardsRequest, MergeShardsResponse>(_ => new MergeShardsResponse());
        _server.Streams.On<UpdateShardCountRequest, UpdateShardCountResponse>(r => new UpdateShardCountResponse { StreamName = r.StreamName, CurrentShardCount = 2, TargetShardCount = r.TargetShardCount });

        Assert.Equal(0, (await _server.RunAsync("stream", "split", "orders", "shardId-000000000000", "12345")).ExitCode);
        Assert.Equal(0, (await _server.RunAsync("stream", "merge", "orders", "shardId-000000000001", "shardId-000000000002")).ExitCode);
        var scale = await _server.RunAsync("stream", "scale", "orders", "--shards", "8");

        Assert.Equal(new SplitShardRequest { StreamName = "orders", ShardToSplit = "shardId-000000000000", NewStartingHashKey = "12345" }, Assert.Single(_server.Streams.Requests<SplitShardRequest>()));
        Assert.Equal(new MergeShardsRequest { StreamName = "orders", ShardToMerge = "shardId-000000000001", AdjacentShardToMerge = "shardId-000000000002" }, Assert.Single(_server.Streams.Requests<MergeShardsRequest>()));
        Assert.Equal(8, Assert.Single(_server.Streams.Requests<UpdateShardCountRequest>()).TargetShardCount);
        Assert.Equal("scaled orders from 2 to 8 open shard(s)", Assert.Single(scale.Lines));
    }

    [Theory]
    [InlineData("48", true)]
    [InlineData("12", false)]
    public async Task Retention_raises_or_lowers_from_the_current_period(string hours, bool raise)
    {
        _server.Streams.On<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>(_ => new DescribeStreamSummaryResponse
        {
            StreamDescriptionSummary = new StreamDescriptionSummary { StreamName = "orders", RetentionPeriodHours = 24 },
        });
        _server.Streams.On<IncreaseStreamRetentionPeriodRequest, IncreaseStreamRetentionPeriodResponse>(_ => new IncreaseStreamRetentionPeriodResponse());
        _server.Streams.On<DecreaseStreamRetentionPeriodRequest, DecreaseStreamRetentionPeriodResponse>(_ => new DecreaseStreamRetentionPeriodResponse());

        var result = await _server.RunAsync("stream", "retention", "orders", "--hours", hours);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(raise ? 1 : 0, _server.Streams.Requests<IncreaseStreamRetentionPeriodRequest>().Count);
        Assert.Equal(raise ? 0 : 1, _server.Streams.Requests<DecreaseStreamRetentionPeriodRequest>().Count);
        Assert.Equal(raise ? "raised retention of orders from 24 to 48 hours" : "lowered retention of orders from 24 to 12 hours", Assert.Single(result.Lines));
    }

    internal static Shard Shard(string id, string startHash, string endHash, string startSeq, string endSeq, string parent = "") => new()
    {
        ShardId = id,
        ParentShardId = parent,
        HashKeyRange = new HashKeyRange { StartingHashKey = startHash, EndingHashKey = endHash },
        SequenceNumberRange = new SequenceNumberRange { StartingSequenceNumber = startSeq, EndingSequenceNumber = endSeq },
        Replicas = { "node-1", "node-2" },
        Leader = "node-1",
    };
}
