using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Streams.Client.Routing;
using Streams.V1;

namespace Streams.Client.Tests;

public sealed class ShardMapTests
{
    [Fact]
    public void Every_hash_key_maps_to_the_one_open_shard_whose_range_holds_it()
    {
        var gen = from count in Gen.Choose(1, 64)
                  from high in Gen.Choose(int.MinValue, int.MaxValue)
                  from low in Gen.Choose(int.MinValue, int.MaxValue)
                  select (count, key: new UInt128((ulong)(uint)high << 32 | (uint)low, (ulong)(uint)low * 2654435761UL));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var map = EvenMap(t.count);
            var shard = map.ShardFor(t.key);
            return shard is not null && shard.IsOpen && shard.StartingHashKey <= t.key && t.key <= shard.EndingHashKey;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Partition_keys_route_by_MD5_and_explicit_hash_keys_win()
    {
        var map = EvenMap(2);
        Assert.Equal(map.ShardFor(HashKey.FromPartitionKey("k")), map.ShardFor("k"));
        Assert.Equal("shardId-000000000000", map.ShardFor("k", "0")!.ShardId);
        Assert.Equal("shardId-000000000001", map.ShardFor("k", UInt128.MaxValue.ToString(CultureInfo.InvariantCulture))!.ShardId);
        Assert.Null(map.ShardFor("k", "not-a-number"));
    }

    [Fact]
    public void Closed_shards_take_no_records_and_leaders_resolve_to_addresses()
    {
        var shards = new[]
        {
            Shard(0, UInt128.Zero, UInt128.MaxValue, closed: true, leader: "n1"),
            Shard(1, UInt128.Zero, UInt128.MaxValue / 2, closed: false, leader: "n2"),
            Shard(2, (UInt128.MaxValue / 2) + 1, UInt128.MaxValue, closed: false, leader: "gone"),
        };
        var map = ShardMap.Create("s", shards, new Dictionary<string, Uri> { ["n1"] = new("http://a:1"), ["n2"] = new("http://b:2") });
        Assert.Equal(2, map.OpenShards.Length);
        Assert.Equal("shardId-000000000001", map.ShardFor(UInt128.Zero)!.ShardId);
        Assert.Equal(new Uri("http://b:2"), map.Find("shardId-000000000001")!.LeaderAddress);
        Assert.Null(map.Find("shardId-000000000002")!.LeaderAddress);
    }

    private static ShardMap EvenMap(int count)
    {
        var width = UInt128.MaxValue / (UInt128)count;
        var shards = Enumerable.Range(0, count).Select(i =>
        {
            var start = width * (UInt128)i;
            var end = i == count - 1 ? UInt128.MaxValue : (width * (UInt128)(i + 1)) - 1;
            return Shard(i, start, end, closed: false, leader: "n1");
        });
        return ShardMap.Create("s", shards, new Dictionary<string, Uri>());
    }

    private static Shard Shard(int number, UInt128 start, UInt128 end, bool closed, string leader) => new()
    {
        ShardId = $"shardId-{number:D12}",
        HashKeyRange = new V1.HashKeyRange { StartingHashKey = start.ToString(CultureInfo.InvariantCulture), EndingHashKey = end.ToString(CultureInfo.InvariantCulture) },
        SequenceNumberRange = new SequenceNumberRange { StartingSequenceNumber = "1", EndingSequenceNumber = closed ? "9" : string.Empty },
        Leader = leader,
    };
}
