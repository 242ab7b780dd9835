using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>CreateStream, DescribeStreamSummary, ListStreams, DeleteStream and the retention operations.</summary>
public sealed class StreamLifecycleTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    [Fact]
    public async Task CreateStream_with_defaults_becomes_active_with_one_replica_and_24_hours()
    {
        var name = ApiNode.NewStreamName("defaults");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 3 }, ApiNode.Deadline());
        var first = await _api.DescribeAsync(name);
        Assert.Contains(first.StreamStatus, new[] { StreamStatus.Creating, StreamStatus.Active });

        await _api.WaitActiveAsync(name);
        var summary = await _api.DescribeAsync(name);
        Assert.Equal(name, summary.StreamName);
        Assert.Equal(StreamStatus.Active, summary.StreamStatus);
        Assert.Equal(24, summary.RetentionPeriodHours);
        Assert.Equal(1, summary.ReplicationFactor);
        Assert.Equal(3, summary.OpenShardCount);
        Assert.Equal(3, summary.ShardCount);
        var created = summary.StreamCreationTimestamp.ToDateTimeOffset();
        Assert.InRange(created, before, DateTimeOffset.UtcNow.AddSeconds(1));

        var shards = await _api.ListShardsAsync(name);
        Assert.Equal(["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"], shards.Select(s => s.ShardId));
        Assert.All(shards, s =>
        {
            Assert.Equal(["node-1"], s.Replicas);
            Assert.Equal("node-1", s.Leader);
            Assert.Empty(s.ParentShardId);
            Assert.Empty(s.SequenceNumberRange.EndingSequenceNumber);
            Assert.NotEmpty(s.SequenceNumberRange.StartingSequenceNumber);
        });

        // Together the shards cover the hash-key space once, in order.
        Assert.Equal(UInt128.Zero, ApiNode.StartOf(shards[0]));
        Assert.Equal(UInt128.MaxValue, ApiNode.EndOf(shards[^1]));
        for (var i = 1; i < shards.Count; i++)
        {
            Assert.Equal(ApiNode.EndOf(shards[i - 1]) + 1, ApiNode.StartOf(shards[i]));
        }
    }

    [Fact]
    public async Task CreateStream_takes_replication_factor_and_retention()
    {
        var name = ApiNode.NewStreamName("explicit");
        await _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1, ReplicationFactor = 1, RetentionPeriodHours = 8760 }, ApiNode.Deadline());
        await _api.WaitActiveAsync(name);
        var summary = await _api.DescribeAsync(name);
        Assert.Equal(1, summary.ReplicationFactor);
        Assert.Equal(8760, summary.RetentionPeriodHours);
        Assert.Equal(1, summary.OpenShardCount);
    }

    [Fact]
    public async Task CreateStream_refuses_a_replication_factor_above_the_node_count_and_retention_out_of_range()
    {
        var name = ApiNode.NewStreamName("refused");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1, ReplicationFactor = 2 }, ApiNode.Deadline()).ResponseAsync,
            "replication_factor", "between 1 and 1", "it is 2");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1, ReplicationFactor = -1 }, ApiNode.Deadline()).ResponseAsync,
            "replication_factor", "it is -1");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1, RetentionPeriodHours = 23 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "between 24 and 8760", "it is 23");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1, RetentionPeriodHours = 8761 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "between 24 and 8760", "it is 8761");

        // None of them created the stream.
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
    }

    [Fact]
    public async Task CreateStream_of_a_name_in_use_is_already_exists()
    {
        var name = await _api.NewActiveStreamAsync("taken", 2);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1 }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.AlreadyExists, StreamsErrors.ResourceInUse, name, "already exists");

        // The first stream is untouched.
        Assert.Equal(2, (await _api.DescribeAsync(name)).OpenShardCount);
    }

    [Fact]
    public async Task ListStreams_pages_through_every_stream_in_order()
    {
        var prefix = ApiNode.NewStreamName("list");
        var names = Enumerable.Range(0, 5).Select(i => $"{prefix}-{i}").ToList();
        foreach (var name in names)
        {
            await _api.Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1 }, ApiNode.Deadline());
        }

        // With next_token, two at a time, from the start.
        var seen = new List<string>();
        var request = new ListStreamsRequest { Limit = 2 };
        var pages = 0;
        while (true)
        {
            var page = await _api.Streams.ListStreamsAsync(request, ApiNode.Deadline());
            pages++;
            Assert.InRange(page.StreamNames.Count, 1, 2);
            Assert.Equal(page.StreamNames, page.StreamSummaries.Select(s => s.StreamName));
            Assert.All(page.StreamSummaries, s => Assert.NotNull(s.StreamCreationTimestamp));
            seen.AddRange(page.StreamNames);
            if (!page.HasMoreStreams)
            {
                Assert.Empty(page.NextToken);
                break;
            }

            Assert.NotEmpty(page.NextToken);
            request = new ListStreamsRequest { Limit = 2, NextToken = page.NextToken };
        }

        Assert.True(pages >= 3);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.Equal(seen.Count, seen.Distinct(StringComparer.Ordinal).Count());
        Assert.Subset(seen.ToHashSet(StringComparer.Ordinal), names.ToHashSet(StringComparer.Ordinal));

        // From an exclusive start: the names after it.
        var after = await _api.Streams.ListStreamsAsync(new ListStreamsRequest { ExclusiveStartStreamName = names[1], Limit = 3 }, ApiNode.Deadline());
        Assert.Equal(names.Skip(2), after.StreamNames.Take(3));
        Assert.True(after.StreamNames.Count <= 3);

        // The default limit (0) is 100: everything here fits in one page.
        var all = await _api.Streams.ListStreamsAsync(new ListStreamsRequest(), ApiNode.Deadline());
        Assert.Subset(all.StreamNames.ToHashSet(StringComparer.Ordinal), names.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListStreams_refuses_next_token_with_exclusive_start_and_bad_limits_and_tokens()
    {
        var name = await _api.NewActiveStreamAsync("listbad", 1);
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.ListStreamsAsync(new ListStreamsRequest { Limit = 1, NextToken = "something", ExclusiveStartStreamName = name }, ApiNode.Deadline()).ResponseAsync,
            "next_token", "exclusive_start_stream_name");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.ListStreamsAsync(new ListStreamsRequest { Limit = 10_001 }, ApiNode.Deadline()).ResponseAsync,
            "limit", "10001", "1 to 10000");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.ListStreamsAsync(new ListStreamsRequest { Limit = -1 }, ApiNode.Deadline()).ResponseAsync,
            "limit", "-1", "1 to 10000");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.ListStreamsAsync(new ListStreamsRequest { NextToken = "%%% not a token %%%" }, ApiNode.Deadline()).ResponseAsync,
            "next_token");
    }

    [Fact]
    public async Task DeleteStream_then_the_stream_is_not_found_and_a_new_one_of_the_name_refuses_old_iterators()
    {
        var name = await _api.NewActiveStreamAsync("deleted", 1);
        await _api.PutAsync(name, ApiNode.Entry("a", "old-1"), ApiNode.Entry("a", "old-2"));
        var oldIterator = await _api.IteratorAsync(name, "shardId-000000000000", ShardIteratorType.TrimHorizon);

        await _api.Streams.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name }, ApiNode.Deadline());

        // Writes are refused at once (while it is DELETING, or already gone).
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.PutRecordAsync(new PutRecordRequest { StreamName = name, PartitionKey = "a", Data = Google.Protobuf.ByteString.CopyFromUtf8("x") }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);

        await _api.WaitGoneAsync(name);

        Assert.DoesNotContain(name, (await _api.Streams.ListStreamsAsync(new ListStreamsRequest { Limit = 10_000 }, ApiNode.Deadline())).StreamNames);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.PutRecordsAsync(new PutRecordsRequest { StreamName = name, Records = { ApiNode.Entry("a", "x") } }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = name, ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.TrimHorizon }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = oldIterator }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, "deleted");

        // The same name again is another stream: empty, and the old iterator does not read it.
        await _api.CreateActiveStreamAsync(name, 1);
        await _api.PutAsync(name, ApiNode.Entry("a", "new-1"));
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = oldIterator }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, "deleted");
        Assert.Equal(["new-1"], ApiNode.Texts(await _api.ReadShardAsync(name, "shardId-000000000000")));
    }

    [Fact]
    public async Task Retention_increases_and_decreases_within_24_to_8760_hours()
    {
        var name = await _api.NewActiveStreamAsync("retention", 1);
        await _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 48 }, ApiNode.Deadline());
        Assert.Equal(48, (await _api.DescribeAsync(name)).RetentionPeriodHours);
        await _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 8760 }, ApiNode.Deadline());
        Assert.Equal(8760, (await _api.DescribeAsync(name)).RetentionPeriodHours);
        await _api.Streams.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 24 }, ApiNode.Deadline());
        Assert.Equal(24, (await _api.DescribeAsync(name)).RetentionPeriodHours);
    }

    [Fact]
    public async Task Retention_changes_are_refused_in_the_wrong_direction_or_out_of_range()
    {
        var name = await _api.NewActiveStreamAsync("retention-bad", 1);
        await _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 100 }, ApiNode.Deadline());

        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 100 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "more than", "100");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 50 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "more than", "100");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 8761 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "between 24 and 8760", "8761");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 200 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "less than", "100");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 23 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "between 24 and 8760", "23");
        await ApiNode.AssertInvalidAsync(
            () => _api.Streams.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 0 }, ApiNode.Deadline()).ResponseAsync,
            "retention_period_hours", "between 24 and 8760");
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name + "-missing", RetentionPeriodHours = 48 }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name + "-missing");

        Assert.Equal(100, (await _api.DescribeAsync(name)).RetentionPeriodHours);
    }
}
