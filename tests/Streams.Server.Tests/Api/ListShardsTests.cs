using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Server.Api;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>ListShards: pages, every filter, and the combinations it refuses.</summary>
public sealed class ListShardsTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    private static ShardFilter Filter(ShardFilterType type, string shardId = "", DateTimeOffset? at = null) =>
        new() { Type = type, ShardId = shardId, Timestamp = at is { } t ? Timestamp.FromDateTimeOffset(t) : null };

    private async Task<List<string>> IdsAsync(string stream, ShardFilter? filter) =>
        [.. (await _api.ListShardsAsync(stream, filter)).Select(s => s.ShardId.Substring(s.ShardId.Length - 1))];

    [Fact]
    public async Task Pages_follow_max_results_and_next_token_to_the_last_shard()
    {
        var name = await _api.NewActiveStreamAsync("pages", 5);
        var first = await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 2 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], first.Shards.Select(s => s.ShardId));
        Assert.NotEmpty(first.NextToken);

        var second = await _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = first.NextToken, MaxResults = 2 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000002", "shardId-000000000003"], second.Shards.Select(s => s.ShardId));
        Assert.NotEmpty(second.NextToken);

        // A different max_results on a later page is allowed.
        var third = await _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = second.NextToken, MaxResults = 10 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000004"], third.Shards.Select(s => s.ShardId));
        Assert.Empty(third.NextToken);

        // A page that holds exactly the rest has no next_token.
        var exact = await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 5 }, ApiNode.Deadline());
        Assert.Equal(5, exact.Shards.Count);
        Assert.Empty(exact.NextToken);

        // 0 means the default (1,000).
        Assert.Equal(5, (await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name }, ApiNode.Deadline())).Shards.Count);

        // exclusive_start_shard_id starts after that shard.
        var after = await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, ExclusiveStartShardId = "shardId-000000000002", MaxResults = 1 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000003"], after.Shards.Select(s => s.ShardId));
        var rest = await _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = after.NextToken }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000004"], rest.Shards.Select(s => s.ShardId));
    }

    [Fact]
    public async Task Every_filter_type_lists_the_shards_it_names()
    {
        // Shards 0 and 1; then 0 splits into 2 and 3.
        var name = await _api.NewActiveStreamAsync("filters", 2);
        await Task.Delay(50);
        var beforeSplit = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        var shard0 = (await _api.ListShardsAsync(name))[0];
        var middle = ApiNode.StartOf(shard0) + ((ApiNode.EndOf(shard0) - ApiNode.StartOf(shard0)) / 2);
        await _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = name, ShardToSplit = shard0.ShardId, NewStartingHashKey = middle.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ApiNode.Deadline());
        await _api.WaitActiveAsync(name);
        await Task.Delay(50);
        var afterSplit = DateTimeOffset.UtcNow;

        Assert.Equal(["0", "1", "2", "3"], await IdsAsync(name, null));
        Assert.Equal(["0", "1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.Unspecified)));
        Assert.Equal(["0", "1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.FromTrimHorizon)));
        Assert.Equal(["0", "1"], await IdsAsync(name, Filter(ShardFilterType.AtTrimHorizon)));
        Assert.Equal(["1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.AtLatest)));
        Assert.Equal(["2", "3"], await IdsAsync(name, Filter(ShardFilterType.AfterShardId, "shardId-000000000001")));
        Assert.Equal(["0", "1"], await IdsAsync(name, Filter(ShardFilterType.AtTimestamp, at: beforeSplit)));
        Assert.Equal(["1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.AtTimestamp, at: afterSplit)));
        Assert.Equal(["0", "1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.FromTimestamp, at: beforeSplit)));
        Assert.Equal(["1", "2", "3"], await IdsAsync(name, Filter(ShardFilterType.FromTimestamp, at: afterSplit)));

        // A time before the stream existed counts as the trim horizon.
        Assert.Equal(["0", "1"], await IdsAsync(name, Filter(ShardFilterType.AtTimestamp, at: beforeSplit.AddDays(-30))));

        // A filter is kept across pages.
        var page = await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 1, ShardFilter = Filter(ShardFilterType.AtLatest) }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000001"], page.Shards.Select(s => s.ShardId));
        page = await _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = 1 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000002"], page.Shards.Select(s => s.ShardId));
        page = await _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = 1 }, ApiNode.Deadline());
        Assert.Equal(["shardId-000000000003"], page.Shards.Select(s => s.ShardId));
        Assert.Empty(page.NextToken);
    }

    [Fact]
    public async Task Bad_combinations_are_invalid_argument()
    {
        var name = await _api.NewActiveStreamAsync("listbad", 3);
        var first = await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 1 }, ApiNode.Deadline());
        var token = first.NextToken;

        Task List(ListShardsRequest request) => _api.Streams.ListShardsAsync(request, ApiNode.Deadline()).ResponseAsync;

        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = token, StreamName = name }), "next_token", "stream_name");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = token, ExclusiveStartShardId = "shardId-000000000000" }), "next_token", "exclusive_start_shard_id");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = token, ShardFilter = Filter(ShardFilterType.AtLatest) }), "next_token", "shard_filter");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = "not-a-token" }), "next_token");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = token[..^2] }), "next_token");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = PageTokens.Encode(name, "x", "shardId-000000000000", "", "") }), "next_token");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = PageTokens.Encode(name, "1", "shardId-000000000000", "@@not base64@@", "") }), "next_token");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { NextToken = PageTokens.Encode(name, "1", "shardId-000000000000", "AAAA", "") }), "next_token");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, MaxResults = 10_001 }), "max_results", "10001", "1 to 10000");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, MaxResults = -5 }), "max_results", "-5", "1 to 10000");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter(ShardFilterType.AfterShardId) }), "shard_filter.shard_id", "AFTER_SHARD_ID");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter(ShardFilterType.AtLatest, "shardId-000000000000") }), "shard_filter.shard_id", "only AFTER_SHARD_ID", "the filter is AT_LATEST");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter(ShardFilterType.AtTimestamp) }), "shard_filter.timestamp", "missing", "AT_TIMESTAMP needs it");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter(ShardFilterType.FromTimestamp) }), "shard_filter.timestamp", "missing", "FROM_TIMESTAMP needs it");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter((ShardFilterType)17) }), "shard_filter.type is 17", "AT_LATEST");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest { StreamName = name, ShardFilter = Filter(ShardFilterType.AtTrimHorizon, at: DateTimeOffset.UtcNow) }), "shard_filter.timestamp", "only AT_TIMESTAMP and FROM_TIMESTAMP");
        await ApiNode.AssertInvalidAsync(() => List(new ListShardsRequest()), "stream_name");
        await ApiNode.AssertFailsAsync(() => List(new ListShardsRequest { StreamName = name + "-missing" }), StatusCode.NotFound, StreamsErrors.ResourceNotFound, name + "-missing");
    }

    [Fact]
    public async Task A_next_token_of_a_deleted_stream_does_not_list_its_successor()
    {
        var name = await _api.NewActiveStreamAsync("listgone", 2);
        var token = (await _api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 1 }, ApiNode.Deadline())).NextToken;
        await _api.Streams.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name }, ApiNode.Deadline());
        await _api.WaitGoneAsync(name);
        await _api.CreateActiveStreamAsync(name, 2);
        await ApiNode.AssertInvalidAsync(() => _api.Streams.ListShardsAsync(new ListShardsRequest { NextToken = token }, ApiNode.Deadline()).ResponseAsync, "next_token", "deleted");
    }
}
