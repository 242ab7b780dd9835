using Streams.Server.Metadata;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Routing;

public sealed class ShardRouterTests
{
    private static ShardRecord Shard(int number, UInt128 start, UInt128 end) => new()
    {
        ShardNumber = number,
        ShardId = ShardIds.Format(number),
        GroupId = number + 2,
        HashKeyRange = new HashKeyRange(start, end),
        IsOpen = true,
        CreatedAt = DateTimeOffset.UnixEpoch,
        StartingSequenceNumber = SequenceNumber.FirstAt(1),
        Replicas = ["node-1"],
    };

    [Fact]
    public void Routes_each_key_to_the_shard_whose_range_holds_it_whatever_the_input_order()
    {
        var parts = HashKeyRange.Even(4);
        var router = new ShardRouter([.. parts.Select((p, i) => Shard(i, p.Start, p.End)).Reverse()]);

        Assert.Equal(["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"], router.Shards.Select(s => s.ShardId));
        Assert.Equal("shardId-000000000000", router.Route(UInt128.Zero).ShardId);
        Assert.Equal("shardId-000000000000", router.Route(parts[0].End).ShardId);
        Assert.Equal("shardId-000000000001", router.Route(parts[1].Start).ShardId);
        Assert.Equal("shardId-000000000003", router.Route(UInt128.MaxValue).ShardId);
    }

    [Fact]
    public void Routes_a_partition_key_by_its_MD5()
    {
        var parts = HashKeyRange.Even(2);
        var router = new ShardRouter([Shard(0, parts[0].Start, parts[0].End), Shard(1, parts[1].Start, parts[1].End)]);

        // MD5("key") = 80325066489831061459460196859901989661 < 2^127; MD5("") is above it.
        Assert.Equal("shardId-000000000000", router.Route("key").ShardId);
        Assert.Equal("shardId-000000000001", router.Route("").ShardId);
    }

    [Fact]
    public void Refuses_shards_with_a_gap_an_overlap_or_a_missing_end()
    {
        Assert.Throws<ArgumentException>(() => new ShardRouter([]));
        Assert.Throws<ArgumentException>(() => new ShardRouter([Shard(0, 0u, 10u), Shard(1, 12u, UInt128.MaxValue)]));
        Assert.Throws<ArgumentException>(() => new ShardRouter([Shard(0, 0u, 10u), Shard(1, 10u, UInt128.MaxValue)]));
        Assert.Throws<ArgumentException>(() => new ShardRouter([Shard(0, 0u, 10u), Shard(1, 11u, 20u)]));
        Assert.Throws<ArgumentException>(() => new ShardRouter([Shard(0, 1u, UInt128.MaxValue)]));
    }
}
