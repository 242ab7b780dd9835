using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Metadata;
using Streams.Server.Routing;
using Streams.Server.Tests.Routing;

namespace Streams.Server.Tests.Metadata;

/// <summary>
/// Any sequence of CreateStream, SplitShard, MergeShards and UpdateShardCount keeps every stream's
/// shards a proper partition of the hash-key space, with a lineage that covers what it replaced.
/// Operations pick their shards by number modulo what exists, so most of them are valid; those
/// refused must leave the state as it was.
/// </summary>
public sealed class ReshardingPropertyTests
{
    private const int MaxShards = 24;

    private static readonly string[] _names = ["alpha", "beta", "gamma"];

    private abstract record Op(int Stream);

    private sealed record CreateOp(int Stream, int Shards) : Op(Stream);

    private sealed record SplitOp(int Stream, int Pick, int Permille) : Op(Stream);

    private sealed record MergeOp(int Stream, int Pick) : Op(Stream);

    private sealed record UpdateOp(int Stream, int Pick) : Op(Stream);

    private static readonly Gen<Op> _ops = Gen.Frequency(
        (1, from s in Gen.Choose(0, 2) from n in Gen.Choose(1, 6) select (Op)new CreateOp(s, n)),
        (4, from s in Gen.Choose(0, 2) from p in Gen.Choose(0, 1000) from f in Gen.Frequency((6, Gen.Choose(0, 1000)), (1, Gen.Elements(0, 1, 999, 1000))) select (Op)new SplitOp(s, p, f)),
        (3, from s in Gen.Choose(0, 2) from p in Gen.Choose(0, 1000) select (Op)new MergeOp(s, p)),
        (2, from s in Gen.Choose(0, 2) from p in Gen.Choose(0, 1000) select (Op)new UpdateOp(s, p)));

    /// <summary>100 cases by default; STREAMS_LONG_TESTS=1 runs 2,000.</summary>
    [Fact]
    public void Every_hash_key_routes_to_exactly_one_open_shard_after_any_resharding()
    {
        var property = Prop.ForAll(
            Gen.Choose(1, 30).SelectMany(n => Gen.ArrayOf(_ops, n)).ToArbitrary(),
            Gen.ArrayOf(RoutingGenerators.HashKeys, 20).ToArbitrary(),
            (ops, keys) =>
            {
                var controller = TestController.Bootstrapped(3, MetadataLimits.Default with { MaxShardsPerStream = MaxShards });
                controller.CreateActive(_names[0], 1);
                foreach (var op in ops)
                {
                    Run(controller, op);
                    controller.Settle();
                    foreach (var stream in controller.Current.Streams.Values)
                    {
                        CheckPartition(stream, keys);
                        CheckLineage(stream);
                    }

                    CheckGroups(controller.Current);
                }
            });
        if (Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1")
        {
            Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
        }
        else
        {
            property.QuickCheckThrowOnFailure();
        }
    }

    private static void Run(TestController controller, Op op)
    {
        var name = _names[op.Stream];
        if (op is CreateOp create)
        {
            Apply(controller, controller.Create(name, create.Shards));
            return;
        }

        if (!controller.Current.TryGetStream(name, out var stream))
        {
            return;
        }

        var open = stream.OpenShards;
        switch (op)
        {
            case SplitOp split:
                var shard = open[split.Pick % open.Count];
                var range = shard.HashKeyRange;
                var offset = (range.End - range.Start) / 1000 * (uint)split.Permille;
                Apply(controller, controller.Split(name, shard.ShardId, range.Start + offset));
                break;
            case MergeOp merge when open.Count > 1:
                var i = merge.Pick % (open.Count - 1);
                var (a, b) = merge.Pick % 2 == 0 ? (open[i], open[i + 1]) : (open[i + 1], open[i]);
                Apply(controller, controller.Merge(name, a.ShardId, b.ShardId));
                break;
            case UpdateOp update:
                var low = (open.Count + 1) / 2;
                var high = Math.Min(2 * open.Count, MaxShards);
                Apply(controller, controller.UpdateCount(name, low + (update.Pick % (high - low + 1))));
                break;
        }
    }

    // A refusal must change nothing; success is checked by the invariants.
    private static void Apply(TestController controller, Streams.Server.Metadata.V1.ControllerCommand command)
    {
        var before = controller.State.Snapshot();
        var result = controller.Apply(command);
        if (!result.Succeeded)
        {
            Assert.Equal(before, controller.State.Snapshot());
        }
    }

    private static void CheckPartition(StreamRecord stream, UInt128[] keys)
    {
        var open = stream.Shards.Where(s => s.IsOpen).OrderBy(s => s.HashKeyRange.Start).ToList();
        Assert.Equal(UInt128.Zero, open[0].HashKeyRange.Start);
        Assert.Equal(UInt128.MaxValue, open[^1].HashKeyRange.End);
        for (var i = 1; i < open.Count; i++)
        {
            Assert.True(open[i - 1].HashKeyRange.IsFollowedBy(open[i].HashKeyRange), $"{open[i - 1].ShardId} and {open[i].ShardId} leave a gap or overlap");
        }

        var probes = keys.Concat(open.SelectMany(s => new[] { s.HashKeyRange.Start, s.HashKeyRange.End }));
        foreach (var key in probes)
        {
            var holders = stream.Shards.Where(s => s.IsOpen && s.HashKeyRange.Contains(key)).ToList();
            var holder = Assert.Single(holders);
            Assert.Same(holder, stream.Router.Route(key));
        }
    }

    private static void CheckLineage(StreamRecord stream)
    {
        foreach (var shard in stream.Shards)
        {
            Assert.Equal(ShardIds.Format(shard.ShardNumber), shard.ShardId);
            Assert.Equal(shard, stream.Shards[shard.ShardNumber]);
            if (!shard.IsOpen)
            {
                Assert.NotNull(shard.ClosedAt);
                AssertCovers(stream.ChildrenOf(shard.ShardId), shard.HashKeyRange, $"children of {shard.ShardId}");
            }

            if (shard.ParentShardIds.Length > 0)
            {
                var parents = shard.ParentShardIds.Select(id => stream.Shards.Single(s => s.ShardId == id)).ToList();
                Assert.All(parents, p => Assert.False(p.IsOpen));
                Assert.Equal(shard.ParentShardIds[0], shard.ParentShardId);
                Assert.Equal(shard.ParentShardIds.Length > 1 ? shard.ParentShardIds[1] : null, shard.AdjacentParentShardId);
                AssertCovers(parents, shard.HashKeyRange, $"parents of {shard.ShardId}");
            }
        }
    }

    // The shards are contiguous, each overlaps the range, and together they hold all of it.
    private static void AssertCovers(IEnumerable<ShardRecord> shards, HashKeyRange range, string what)
    {
        var sorted = shards.OrderBy(s => s.HashKeyRange.Start).ToList();
        Assert.NotEmpty(sorted);
        Assert.All(sorted, s => Assert.True(s.HashKeyRange.Overlaps(range), $"{what}: {s.ShardId} {s.HashKeyRange} misses {range}"));
        Assert.True(sorted[0].HashKeyRange.Start <= range.Start, $"{what} start after {range}");
        Assert.True(sorted[^1].HashKeyRange.End >= range.End, $"{what} end before {range}");
        for (var i = 1; i < sorted.Count; i++)
        {
            Assert.True(sorted[i - 1].HashKeyRange.IsFollowedBy(sorted[i].HashKeyRange), $"{what} leave a gap or overlap");
        }
    }

    private static void CheckGroups(ClusterMetadata metadata)
    {
        var shards = metadata.Streams.Values.SelectMany(s => s.Shards.Select(shard => (Stream: s, Shard: shard))).ToList();
        Assert.Equal(shards.Count, shards.Select(x => x.Shard.GroupId).Distinct().Count());
        Assert.Equal(shards.Count, metadata.ShardsByGroup.Count);
        Assert.All(shards, x =>
        {
            Assert.True(x.Shard.GroupId > ClusterMetadata.ControllerGroupId && x.Shard.GroupId < metadata.NextGroupId);
            Assert.Equal(new ShardAddress(x.Stream.Name, x.Shard.ShardNumber), metadata.ShardsByGroup[x.Shard.GroupId]);
            Assert.Equal(x.Stream.ReplicationFactor, x.Shard.Replicas.Distinct().Count());
            Assert.Equal(x.Shard.Replicas.Length, x.Shard.Replicas.Distinct().Count());
        });
    }
}
