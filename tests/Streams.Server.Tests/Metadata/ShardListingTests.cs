using Streams.Server.Metadata;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>
/// ListShards' filters on one history: shard 0 created at T0, split at T1 into 1 and 2, which are
/// merged at T2 into 3 (a second apart each).
/// </summary>
public sealed class ShardListingTests
{
    private readonly TestController _controller = TestController.Bootstrapped(1);
    private readonly DateTimeOffset _t0;
    private readonly DateTimeOffset _t1;
    private readonly DateTimeOffset _t2;

    public ShardListingTests()
    {
        _controller.CreateActive("s", 1);
        _t0 = Stream.CreatedAt;
        _controller.Ok(_controller.Split("s", "shardId-000000000000", UInt128.One << 127));
        _controller.Settle();
        _t1 = Stream.Shards[1].CreatedAt;
        _controller.Ok(_controller.Merge("s", "shardId-000000000001", "shardId-000000000002"));
        _controller.Settle();
        _t2 = Stream.Shards[3].CreatedAt;
    }

    private StreamRecord Stream => _controller.Stream("s");

    private int[] List(ShardListFilter? filter, DateTimeOffset now, string? after = null) =>
        [.. Stream.ListShards(filter, after, now).Select(s => s.ShardNumber)];

    [Fact]
    public void Within_retention_every_filter_sees_the_history_it_should()
    {
        var now = _t2 + TimeSpan.FromMinutes(1);
        Assert.Equal([0, 1, 2, 3], List(null, now));
        Assert.Equal([0, 1, 2, 3], List(new ShardListFilter(ShardFilterType.FromTrimHorizon), now));
        Assert.Equal([0], List(new ShardListFilter(ShardFilterType.AtTrimHorizon), now));
        Assert.Equal([3], List(new ShardListFilter(ShardFilterType.AtLatest), now));
        Assert.Equal([2, 3], List(new ShardListFilter(ShardFilterType.AfterShardId, "shardId-000000000001"), now));
        Assert.Equal([1, 2], List(new ShardListFilter(ShardFilterType.AtTimestamp, Timestamp: _t1 + TimeSpan.FromMilliseconds(500)), now));
        Assert.Equal([0, 1, 2], List(new ShardListFilter(ShardFilterType.AtTimestamp, Timestamp: _t1), now));
        Assert.Equal([1, 2, 3], List(new ShardListFilter(ShardFilterType.FromTimestamp, Timestamp: _t1 + TimeSpan.FromMilliseconds(500)), now));
        Assert.Equal([3], List(new ShardListFilter(ShardFilterType.FromTimestamp, Timestamp: now), now));
    }

    [Fact]
    public void Timestamps_before_the_stream_count_as_its_creation()
    {
        var now = _t2 + TimeSpan.FromMinutes(1);
        Assert.Equal([0], List(new ShardListFilter(ShardFilterType.AtTimestamp, Timestamp: _t0 - TimeSpan.FromDays(3)), now));
        Assert.Equal([0, 1, 2, 3], List(new ShardListFilter(ShardFilterType.FromTimestamp, Timestamp: DateTimeOffset.UnixEpoch), now));
    }

    [Fact]
    public void Past_retention_shards_closed_before_the_trim_horizon_drop_out()
    {
        var now = _t2 + TimeSpan.FromHours(24) + TimeSpan.FromMilliseconds(1);
        Assert.Equal([3], List(null, now));
        Assert.Equal([3], List(new ShardListFilter(ShardFilterType.AtTrimHorizon), now));
        Assert.Equal([3], List(new ShardListFilter(ShardFilterType.FromTimestamp, Timestamp: _t0), now));
        Assert.Equal([0, 1, 2, 3], List(new ShardListFilter(ShardFilterType.AfterShardId), now));

        var between = _t1 + TimeSpan.FromHours(24) + TimeSpan.FromMilliseconds(500);
        Assert.Equal([1, 2, 3], List(null, between));
        Assert.Equal([1, 2], List(new ShardListFilter(ShardFilterType.AtTrimHorizon), between));
    }

    [Fact]
    public void An_exclusive_start_shard_id_pages_through_in_id_order()
    {
        var now = _t2;
        Assert.Equal([1, 2, 3], List(null, now, after: "shardId-000000000000"));
        Assert.Equal([], List(null, now, after: "shardId-000000000003"));
        Assert.Equal([3], List(new ShardListFilter(ShardFilterType.AtLatest), now, after: "shardId-000000000001"));
    }

    [Fact]
    public void Children_and_shard_lookup()
    {
        Assert.Equal([1, 2], Stream.ChildrenOf("shardId-000000000000").Select(s => s.ShardNumber));
        Assert.Equal([3], Stream.ChildrenOf("shardId-000000000002").Select(s => s.ShardNumber));
        Assert.Empty(Stream.ChildrenOf("shardId-000000000003"));
        Assert.True(Stream.TryGetShard("shardId-000000000002", out var shard));
        Assert.Equal(2, shard.ShardNumber);
        Assert.False(Stream.TryGetShard("shardId-000000000004", out _));
        Assert.False(Stream.TryGetShard("nonsense", out _));
        Assert.Equal(3, Stream.Router.Route(UInt128.Zero).ShardNumber);
    }
}
