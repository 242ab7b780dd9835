using Streams.Client.Api;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

public sealed class ReplicaPlacementTests
{
    private static Dictionary<string, (int Replicas, int Leaders)> OpenLoads(ClusterMetadata metadata)
    {
        var loads = metadata.Nodes.Keys.ToDictionary(n => n, _ => (Replicas: 0, Leaders: 0));
        foreach (var shard in metadata.Streams.Values.SelectMany(s => s.Shards).Where(s => s.IsOpen))
        {
            foreach (var replica in shard.Replicas)
            {
                loads[replica] = (loads[replica].Replicas + 1, loads[replica].Leaders);
            }

            loads[shard.PreferredLeader] = (loads[shard.PreferredLeader].Replicas, loads[shard.PreferredLeader].Leaders + 1);
        }

        return loads;
    }

    [Fact]
    public void Three_nodes_eight_shards_three_replicas_put_every_shard_everywhere_and_spread_leaders()
    {
        var controller = TestController.Bootstrapped(3);
        var stream = controller.CreateActive("s", 8, replicationFactor: 3);

        Assert.All(stream.Shards, s => Assert.Equal(["node-1", "node-2", "node-3"], s.Replicas.Order(StringComparer.Ordinal)));
        var leaders = OpenLoads(controller.Current).Values.Select(l => l.Leaders).Order().ToList();
        Assert.Equal([2, 3, 3], leaders);
    }

    [Theory]
    [InlineData(5, 3, new[] { 7, 3, 5 })]
    [InlineData(4, 2, new[] { 1, 1, 1, 6 })]
    [InlineData(7, 3, new[] { 11, 2 })]
    public void Replicas_and_leaders_spread_evenly_across_streams(int nodes, int replicationFactor, int[] shardCounts)
    {
        var controller = TestController.Bootstrapped(nodes);
        for (var i = 0; i < shardCounts.Length; i++)
        {
            controller.CreateActive($"s{i}", shardCounts[i], replicationFactor);
        }

        var loads = OpenLoads(controller.Current).Values.ToList();
        Assert.True(loads.Max(l => l.Replicas) - loads.Min(l => l.Replicas) <= 1, string.Join(", ", loads));
        Assert.True(loads.Max(l => l.Leaders) - loads.Min(l => l.Leaders) <= 1, string.Join(", ", loads));
    }

    [Fact]
    public void Replicas_stay_even_when_streams_mix_replication_factors()
    {
        // Replicas come first: with one-replica shards a node's only replica is also its
        // leadership, so leaders can end two apart.
        var controller = TestController.Bootstrapped(5);
        controller.CreateActive("a", 7, replicationFactor: 3);
        controller.CreateActive("b", 3, replicationFactor: 2);
        controller.CreateActive("c", 4, replicationFactor: 1);

        var loads = OpenLoads(controller.Current).Values.ToList();
        Assert.True(loads.Max(l => l.Replicas) - loads.Min(l => l.Replicas) <= 1, string.Join(", ", loads));
        Assert.True(loads.Max(l => l.Leaders) - loads.Min(l => l.Leaders) <= 2, string.Join(", ", loads));
    }

    [Fact]
    public void The_default_replication_factor_is_three_or_the_node_count()
    {
        Assert.Equal(3, TestController.Bootstrapped(5).CreateActive("s", 1).ReplicationFactor);
        Assert.Equal(2, TestController.Bootstrapped(2).CreateActive("s", 1).ReplicationFactor);
        Assert.Equal(1, TestController.Bootstrapped(1).CreateActive("s", 1).ReplicationFactor);
    }

    [Fact]
    public void Placement_is_the_same_on_every_node()
    {
        var first = TestController.Bootstrapped(4);
        var second = TestController.Bootstrapped(4);
        first.CreateActive("s", 9);
        second.CreateActive("s", 9);
        Assert.Equal(first.State.Snapshot(), second.State.Snapshot());
    }

    [Fact]
    public void A_fourth_node_receives_replicas_one_move_at_a_time_until_balanced()
    {
        var controller = TestController.Bootstrapped(3);
        controller.CreateActive("s", 8, replicationFactor: 3);

        controller.Ok(TestController.AddNode("node-4"));
        Assert.Null(ReplicaPlacement.PlanNextMove(controller.Current));
        controller.Ok(TestController.Promote("node-4"));

        var first = ReplicaPlacement.PlanNextMove(controller.Current)!;
        Assert.Equal("node-4", first.ToNode);
        controller.Ok(TestController.MoveStep(first, ReplicaMoveStep.Start));
        var second = new ReplicaMove(controller.Stream("s").Shards[1].GroupId, "node-2", "node-4");
        var busy = controller.Refused(TestController.MoveStep(second, ReplicaMoveStep.Start));
        Assert.Equal(StreamsErrors.ResourceInUse, busy.Name);
        Assert.Contains("one move at a time", busy.Message, StringComparison.Ordinal);
        controller.Ok(TestController.MoveStep(first, ReplicaMoveStep.Abandon));

        var moves = controller.RunMoves();
        Assert.Equal(6, moves.Count);
        Assert.All(moves, m => Assert.Equal("node-4", m.ToNode));
        var loads = OpenLoads(controller.Current);
        Assert.All(loads.Values, l => Assert.Equal(6, l.Replicas));
        Assert.True(loads.Values.Max(l => l.Leaders) - loads.Values.Min(l => l.Leaders) <= 1, string.Join(", ", loads));
        Assert.All(controller.Stream("s").Shards, s => Assert.Equal(3, s.Replicas.Distinct().Count()));
    }

    [Fact]
    public void A_removed_node_gives_away_every_replica_then_can_be_forgotten()
    {
        var controller = TestController.Bootstrapped(4);
        controller.CreateActive("s", 8, replicationFactor: 3);
        controller.Ok(controller.UpdateCount("s", 4));
        controller.Settle();

        controller.Ok(TestController.RemoveNode("node-2"));
        Assert.Equal(MemberRole.Leaving, controller.Current.Nodes["node-2"].Role);
        var early = controller.Refused(TestController.NodeRemoved("node-2"));
        Assert.Contains("still holds", early.Message, StringComparison.Ordinal);

        var moves = controller.RunMoves();
        Assert.NotEmpty(moves);
        Assert.All(moves, m => Assert.Equal("node-2", m.FromNode));
        Assert.Equal(0, controller.Current.ReplicaCountOf("node-2"));
        Assert.All(controller.Stream("s").Shards, s => Assert.Equal(3, s.Replicas.Distinct().Count()));

        // Closed shards moved too: their data is still read.
        Assert.Contains(moves, m => controller.Current.TryGetShard(m.GroupId, out _, out var shard) && !shard.IsOpen);
        controller.Ok(TestController.NodeRemoved("node-2"));
        Assert.False(controller.Current.Nodes.ContainsKey("node-2"));
    }

    [Fact]
    public void A_node_cannot_be_removed_when_its_replicas_would_have_nowhere_to_go()
    {
        var controller = TestController.Bootstrapped(3);
        controller.CreateActive("s", 2, replicationFactor: 3);
        var error = controller.Refused(TestController.RemoveNode("node-3"));
        Assert.Equal(StreamsErrors.ResourceInUse, error.Name);
        Assert.Contains("Stream 's' keeps 3 replicas per shard and only 2 nodes would remain", error.Message, StringComparison.Ordinal);

        var lone = TestController.Bootstrapped(1);
        Assert.Contains("last node", lone.Refused(TestController.RemoveNode("node-1")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void New_shards_avoid_a_leaving_node()
    {
        var controller = TestController.Bootstrapped(4);
        controller.Ok(TestController.RemoveNode("node-4"));
        var stream = controller.CreateActive("s", 6, replicationFactor: 3);
        Assert.All(stream.Shards, s => Assert.DoesNotContain("node-4", s.Replicas));
    }

    [Fact]
    public void A_move_start_is_checked_and_finish_replaces_the_replica_in_place()
    {
        var controller = TestController.Bootstrapped(4);
        var shard = controller.CreateActive("s", 1, replicationFactor: 3).Shards[0];
        var outside = controller.Current.Nodes.Keys.Single(n => !shard.Replicas.Contains(n));
        var inside = shard.Replicas[0];

        Assert.Contains("holds no replica", controller.Refused(TestController.MoveStep(new ReplicaMove(shard.GroupId, outside, inside), ReplicaMoveStep.Start)).Message, StringComparison.Ordinal);
        Assert.Contains("already holds a replica", controller.Refused(TestController.MoveStep(new ReplicaMove(shard.GroupId, inside, shard.Replicas[1]), ReplicaMoveStep.Start)).Message, StringComparison.Ordinal);
        Assert.Equal(StreamsErrors.ResourceNotFound, controller.Refused(TestController.MoveStep(new ReplicaMove(999, inside, outside), ReplicaMoveStep.Start)).Name);
        Assert.Contains("start it first", controller.Refused(TestController.MoveStep(new ReplicaMove(shard.GroupId, inside, outside), ReplicaMoveStep.Finish)).Message, StringComparison.Ordinal);

        var move = new ReplicaMove(shard.GroupId, inside, outside);
        controller.Ok(TestController.MoveStep(move, ReplicaMoveStep.Start));
        Assert.False(controller.Apply(TestController.MoveStep(move, ReplicaMoveStep.Start)).Changed);
        controller.Ok(TestController.MoveStep(move, ReplicaMoveStep.Finish));
        Assert.Equal<string>([outside, .. shard.Replicas[1..]], controller.Stream("s").Shards[0].Replicas);
        Assert.Null(controller.Current.PendingMove);
        Assert.False(controller.Apply(TestController.MoveStep(move, ReplicaMoveStep.Finish)).Changed);
    }
}
