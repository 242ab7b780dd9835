using Streams.Server.Metadata;
using Streams.Server.Routing;
using Streams.V1;
using HashKeyRange = Streams.Server.Routing.HashKeyRange;

namespace Streams.Server.Tests.Metadata;

public sealed class ControllerStateTests
{
    [Fact]
    public void Bootstrap_records_nodes_secret_limits_and_counters()
    {
        var controller = TestController.Bootstrapped(3);
        var metadata = controller.Current;
        Assert.True(metadata.IsBootstrapped);
        Assert.Equal(["node-1", "node-2", "node-3"], metadata.Nodes.Keys);
        Assert.All(metadata.Nodes.Values, n => Assert.Equal(MemberRole.Voter, n.Role));
        Assert.Equal(32, metadata.IteratorSecret.Length);
        Assert.Equal(MetadataLimits.Default, metadata.Limits);
        Assert.Equal(4, metadata.NextNodeRaftId);
        Assert.Equal(ClusterMetadata.ControllerGroupId + 1, metadata.NextGroupId);
    }

    [Fact]
    public void CreateStream_opens_evenly_split_shards_with_new_groups_and_reports_them()
    {
        var controller = TestController.Bootstrapped(3);
        var result = controller.Ok(controller.Create("orders", 3, retentionHours: 48));
        var stream = controller.Stream("orders");

        Assert.Equal<string>(["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"], result.CreatedShardIds);
        Assert.Equal<long>([2L, 3L, 4L], result.CreatedGroupIds);
        Assert.Equal(StreamStatus.Creating, stream.Status);
        Assert.Equal(48, stream.RetentionHours);
        Assert.Equal(1, stream.StreamId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(controller.NowMs), stream.CreatedAt);
        Assert.Equal(HashKeyRange.Even(3), stream.Shards.Select(s => s.HashKeyRange));
        Assert.All(stream.Shards, s => Assert.Equal(SequenceNumber.FirstAt(ControllerState.FirstShardIndex), s.StartingSequenceNumber));
        Assert.All(stream.Shards, s => Assert.True(s.ParentShardIds.IsEmpty));
    }

    [Fact]
    public void A_stream_becomes_active_once_every_shard_group_has_a_leader()
    {
        var controller = TestController.Bootstrapped(3);
        controller.Ok(controller.Create("s", 2));
        var shards = controller.Stream("s").Shards;
        controller.Ok(TestController.Leader(shards[0].GroupId, "node-1", 1));
        Assert.Equal(StreamStatus.Creating, controller.Stream("s").Status);
        controller.Ok(TestController.Leader(shards[1].GroupId, "node-2", 1));
        Assert.Equal(StreamStatus.Active, controller.Stream("s").Status);
    }

    [Fact]
    public void A_resharded_stream_is_updating_until_new_groups_lead_and_closed_ones_seal()
    {
        var controller = TestController.Bootstrapped(3);
        controller.CreateActive("s", 1);
        var result = controller.Ok(controller.Split("s", "shardId-000000000000", UInt128.One << 127));
        Assert.Equal<string>(["shardId-000000000001", "shardId-000000000002"], result.CreatedShardIds);
        Assert.Equal<string>(["shardId-000000000000"], result.ClosedShardIds);
        Assert.Equal(StreamStatus.Updating, controller.Stream("s").Status);

        var stream = controller.Stream("s");
        controller.Ok(TestController.Leader(stream.Shards[1].GroupId, "node-1", 1));
        controller.Ok(TestController.Leader(stream.Shards[2].GroupId, "node-2", 1));
        Assert.Equal(StreamStatus.Updating, controller.Stream("s").Status);
        controller.Ok(TestController.Sealed(stream.Shards[0].GroupId, new SequenceNumber(17, 3)));
        Assert.Equal(StreamStatus.Active, controller.Stream("s").Status);
        Assert.Equal(new SequenceNumber(17, 3), controller.Stream("s").Shards[0].EndingSequenceNumber);
    }

    [Fact]
    public void Split_children_descend_from_the_split_shard_and_merge_children_from_both()
    {
        var controller = TestController.Bootstrapped(3);
        controller.CreateActive("s", 2);
        var second = controller.Stream("s").Shards[1];
        controller.Ok(controller.Split("s", second.ShardId, second.HashKeyRange.Start + 100));
        controller.Settle();
        var stream = controller.Stream("s");
        Assert.Equal(new HashKeyRange(second.HashKeyRange.Start, second.HashKeyRange.Start + 99), stream.Shards[2].HashKeyRange);
        Assert.Equal(new HashKeyRange(second.HashKeyRange.Start + 100, UInt128.MaxValue), stream.Shards[3].HashKeyRange);
        Assert.All(stream.Shards.Skip(2), s => Assert.Equal((second.ShardId, (string?)null), (s.ParentShardId, s.AdjacentParentShardId)));
        Assert.Equal<ShardRecord>([stream.Shards[2], stream.Shards[3]], stream.ChildrenOf(second.ShardId));
        Assert.Equal(controller.Stream("s").Shards[1].ClosedAt, stream.Shards[2].CreatedAt);

        controller.Ok(controller.Merge("s", "shardId-000000000002", "shardId-000000000000"));
        var merged = controller.Stream("s").Shards[4];
        Assert.Equal(("shardId-000000000002", "shardId-000000000000"), (merged.ParentShardId, merged.AdjacentParentShardId));
        Assert.Equal(new HashKeyRange(UInt128.Zero, second.HashKeyRange.Start + 99), merged.HashKeyRange);
    }

    [Fact]
    public void UpdateShardCount_closes_every_open_shard_and_opens_an_even_split_descending_from_the_overlapped()
    {
        var controller = TestController.Bootstrapped(3);
        controller.CreateActive("s", 2);
        var result = controller.Ok(controller.UpdateCount("s", 3));
        Assert.Equal(2, result.OpenShardCountBefore);
        Assert.Equal<string>(["shardId-000000000000", "shardId-000000000001"], result.ClosedShardIds);
        var stream = controller.Stream("s");
        Assert.Equal(HashKeyRange.Even(3), stream.OpenShards.Select(s => s.HashKeyRange));
        Assert.Equal<string>(["shardId-000000000000"], stream.Shards[2].ParentShardIds);
        Assert.Equal<string>(["shardId-000000000000", "shardId-000000000001"], stream.Shards[3].ParentShardIds);
        Assert.Equal(("shardId-000000000000", "shardId-000000000001"), (stream.Shards[3].ParentShardId, stream.Shards[3].AdjacentParentShardId));
        Assert.Equal<string>(["shardId-000000000001"], stream.Shards[4].ParentShardIds);
    }

    [Fact]
    public void Stale_and_foreign_leader_reports_are_ignored()
    {
        var controller = TestController.Bootstrapped(3);
        var group = controller.CreateActive("s", 1).Shards[0].GroupId;
        Assert.True(controller.Ok(TestController.Leader(group, "node-2", 5)).Changed);
        Assert.False(controller.Ok(TestController.Leader(group, "node-3", 4)).Changed);
        Assert.False(controller.Ok(TestController.Leader(group, "node-3", 5)).Changed);
        Assert.False(controller.Ok(TestController.Leader(group, "node-9", 6)).Changed);
        Assert.False(controller.Ok(TestController.Leader(12345, "node-1", 6)).Changed);
        var shard = controller.Stream("s").Shards[0];
        Assert.Equal(("node-2", 5L), (shard.Leader, shard.LeaderTerm));

        controller.Ok(TestController.Leader(group, "node-3", 6));
        Assert.Equal(("node-3", 6L), (controller.Stream("s").Shards[0].Leader, controller.Stream("s").Shards[0].LeaderTerm));
        Assert.Equal(1, controller.Current.ShardCountsByNode()["node-3"].Leaders);
    }

    [Fact]
    public void Delete_marks_deleting_then_stream_deleted_forgets_it_and_the_name_gets_a_new_id()
    {
        var controller = TestController.Bootstrapped(3);
        var old = controller.CreateActive("s", 2);
        controller.Ok(TestController.Delete("s"));
        Assert.False(controller.Ok(TestController.Delete("s")).Changed);
        Assert.Equal(StreamStatus.Deleting, controller.Stream("s").Status);

        controller.Ok(TestController.Deleted(old.StreamId));
        Assert.False(controller.Current.Streams.ContainsKey("s"));
        Assert.False(controller.Current.TryGetShard(old.Shards[0].GroupId, out _, out _));
        Assert.False(controller.Ok(TestController.Deleted(old.StreamId)).Changed);

        var again = controller.CreateActive("s", 1);
        Assert.NotEqual(old.StreamId, again.StreamId);
        Assert.DoesNotContain(again.Shards[0].GroupId, old.Shards.Select(s => s.GroupId));
    }

    [Fact]
    public void StreamDeleted_is_refused_for_a_stream_not_being_deleted()
    {
        var controller = TestController.Bootstrapped(1);
        var stream = controller.CreateActive("s", 1);
        Assert.Contains("not DELETING", controller.Refused(TestController.Deleted(stream.StreamId)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_join_as_learners_get_new_raft_ids_and_vote_once_promoted()
    {
        var controller = TestController.Bootstrapped(2);
        var result = controller.Ok(TestController.AddNode("node-3"));
        Assert.Equal(3, result.RaftId);
        Assert.Equal(MemberRole.Learner, controller.Current.Nodes["node-3"].Role);
        Assert.Equal(Streams.Client.Api.StreamsErrors.ResourceInUse, controller.Refused(TestController.AddNode("node-3")).Name);
        Assert.Contains("never reused", controller.Refused(TestController.AddNode("node-4", raftId: 2)).Message, StringComparison.Ordinal);
        Assert.Equal(10, controller.Ok(TestController.AddNode("node-4", raftId: 10)).RaftId);
        Assert.Equal(11, controller.Ok(TestController.AddNode("node-5")).RaftId);
        Assert.Contains("node_id must be", controller.Refused(TestController.AddNode("bad id")).Message, StringComparison.Ordinal);

        controller.Ok(TestController.Promote("node-3"));
        Assert.Equal(MemberRole.Voter, controller.Current.Nodes["node-3"].Role);
        Assert.Equal(Streams.Client.Api.StreamsErrors.ResourceNotFound, controller.Refused(TestController.Promote("node-9")).Name);
    }

    [Fact]
    public void A_node_brings_its_name_derived_raft_id_whatever_its_size_unless_a_member_has_it()
    {
        // Raft ids come from hashing names: a new node's is as likely below the others' as above.
        var bootstrap = TestController.Bootstrap(1);
        bootstrap.Bootstrap.Nodes[0].RaftId = 3_861_585_884_071_264_842;
        var controller = new TestController();
        controller.Ok(bootstrap);

        Assert.Equal(2_001_354_903_797_522_098, controller.Ok(TestController.AddNode("node-4", raftId: 2_001_354_903_797_522_098)).RaftId);
        Assert.Equal(MemberRole.Learner, controller.Current.Nodes["node-4"].Role);
        Assert.Equal(3_861_585_884_071_264_843, controller.Current.NextNodeRaftId);

        var refused = controller.Refused(TestController.AddNode("node-5", raftId: 2_001_354_903_797_522_098));
        Assert.Contains("node-4", refused.Message, StringComparison.Ordinal);
        Assert.Contains("never reused", refused.Message, StringComparison.Ordinal);
        Assert.Contains("negative", controller.Refused(TestController.AddNode("node-6", raftId: -5)).Message, StringComparison.Ordinal);
        Assert.Equal(3_861_585_884_071_264_843, controller.Ok(TestController.AddNode("node-7")).RaftId);
    }

    [Fact]
    public void Lists_streams_in_name_order_a_page_at_a_time()
    {
        var controller = TestController.Bootstrapped(1);
        foreach (var name in new[] { "b", "a", "d", "c" })
        {
            controller.Ok(controller.Create(name, 1));
        }

        var first = controller.Current.ListStreams(null, 3);
        Assert.Equal(["a", "b", "c"], first.Streams.Select(s => s.Name));
        Assert.True(first.HasMore);
        var second = controller.Current.ListStreams("c", 3);
        Assert.Equal(["d"], second.Streams.Select(s => s.Name));
        Assert.False(second.HasMore);
        Assert.False(controller.Current.ListStreams("a", 3).HasMore);
        Assert.Equal(["b", "c", "d"], controller.Current.ListStreams("a", 3).Streams.Select(s => s.Name));
    }

    [Fact]
    public void Apply_never_changes_a_state_a_reader_holds()
    {
        var controller = TestController.Bootstrapped(1);
        var before = controller.Current;
        controller.CreateActive("s", 1);
        Assert.Empty(before.Streams);
        Assert.NotSame(before, controller.Current);
    }
}
