using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Metadata;

public sealed class SnapshotTests
{
    // (kind, pick): the kind chooses a command, the pick its target among what exists.
    private static readonly Gen<(int Kind, int Pick)> _steps =
        from kind in Gen.Frequency((12, Gen.Choose(0, 11)), (6, Gen.Constant(12)), (8, Gen.Choose(13, 16)), (5, Gen.Choose(17, 20))) from pick in Gen.Choose(0, 10_000) select (kind, pick);

    [Fact]
    public void Restoring_a_snapshot_gives_a_state_that_snapshots_and_behaves_the_same() =>
        Prop.ForAll(Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(_steps, n)).ToArbitrary(), steps =>
        {
            var controller = TestController.Bootstrapped(4);
            foreach (var (kind, pick) in steps)
            {
                controller.Apply(Command(controller, kind, pick));
            }

            var bytes = controller.State.Snapshot();
            var restored = new ControllerState();
            restored.Restore(bytes);
            Assert.Equal(bytes, restored.Snapshot());
            Assert.Equal(ControllerSnapshotFormat.ToMessage(controller.Current), ControllerSnapshotFormat.ToMessage(restored.Current));
            AssertSameViews(controller.Current, restored.Current);
            Assert.Equal(controller.Current, restored.Current);

            // The same next command does the same to both.
            var next = Command(controller, steps.Length % 17, steps.Length * 7919);
            var original = controller.Apply(next);
            var copy = restored.Apply(next);
            Assert.Equal(original.Error, copy.Error);
            Assert.Equal(controller.State.Snapshot(), restored.Snapshot());
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void An_empty_snapshot_is_the_empty_state_and_garbage_is_refused()
    {
        var state = new ControllerState();
        state.Restore([]);
        Assert.False(state.Current.IsBootstrapped);

        Assert.Throws<InvalidDataException>(() => state.Restore([0xff, 0xff, 0xff]));
        Assert.Throws<InvalidDataException>(() => state.Restore(new ControllerSnapshot { FormatVersion = 99 }.ToByteArray()));
    }

    private static void AssertSameViews(ClusterMetadata expected, ClusterMetadata actual)
    {
        Assert.Equal(expected.Nodes.Values, actual.Nodes.Values);
        Assert.Equal(expected.IteratorSecret.ToArray(), actual.IteratorSecret.ToArray());
        Assert.Equal(expected.Limits, actual.Limits);
        Assert.Equal(expected.PendingMove, actual.PendingMove);
        Assert.Equal((expected.NextStreamId, expected.NextGroupId, expected.NextNodeRaftId), (actual.NextStreamId, actual.NextGroupId, actual.NextNodeRaftId));
        Assert.Equal(expected.ShardsByGroup.OrderBy(p => p.Key), actual.ShardsByGroup.OrderBy(p => p.Key));
        Assert.Equal(expected.Streams.Keys, actual.Streams.Keys);
        foreach (var (name, stream) in expected.Streams)
        {
            var other = actual.Streams[name];
            Assert.Equal((stream.StreamId, stream.Status, stream.RetentionHours, stream.ReplicationFactor, stream.CreatedAt), (other.StreamId, other.Status, other.RetentionHours, other.ReplicationFactor, other.CreatedAt));
            Assert.Equal(stream.ConsumerGroups.Values, other.ConsumerGroups.Values);
            Assert.Equal(stream.Shards.Length, other.Shards.Length);
            for (var i = 0; i < stream.Shards.Length; i++)
            {
                var (a, b) = (stream.Shards[i], other.Shards[i]);
                Assert.Equal(
                    (a.ShardId, a.GroupId, a.HashKeyRange, a.IsOpen, a.CreatedAt, a.ClosedAt, a.StartingSequenceNumber, a.EndingSequenceNumber, a.Leader, a.LeaderTerm),
                    (b.ShardId, b.GroupId, b.HashKeyRange, b.IsOpen, b.CreatedAt, b.ClosedAt, b.StartingSequenceNumber, b.EndingSequenceNumber, b.Leader, b.LeaderTerm));
                Assert.Equal(a.Replicas.ToArray(), b.Replicas.ToArray());
                Assert.Equal(a.ParentShardIds.ToArray(), b.ParentShardIds.ToArray());
            }
        }
    }

    // Consumer group commands with times around the controller's clock, some earlier than the last.
    private static ControllerCommand GroupCommand(TestController controller, StreamRecord? stream, string name, int kind, int pick)
    {
        var group = new GroupCommands(name, $"g{pick % 2}");
        var member = $"m{pick % 4}";
        var at = controller.NowMs + (pick % 20_000) - 2_000;
        controller.NowMs += 700;
        switch (kind)
        {
            case 13:
                return group.Join(member, at, 1_000 + (pick % 5_000), (Streams.V1.InitialPosition)(pick % 3));
            case 14:
                return group.Heartbeat(member, at);
            case 15 when stream is not null && stream.Shards.Length > 0:
                var shard = stream.Shards[pick % stream.Shards.Length];
                var state = stream.ConsumerGroups.TryGetValue(group.Group, out var g) ? g.ShardState(shard.ShardId) : GroupShard.None;
                var owner = state.Owner ?? member;
                var sequence = (shard.EndingSequenceNumber ?? shard.StartingSequenceNumber).ToString();
                return pick % 7 == 3
                    ? group.Prepare(owner, shard.ShardId, state.Epoch, sequence, at)
                    : group.Checkpoint(owner, shard.ShardId, state.Epoch - (pick % 5 == 0 ? 1 : 0), sequence, at, shardEnd: !shard.IsOpen && pick % 2 == 0);
            default:
                return pick % 3 == 0 ? group.Delete(at) : group.Leave(member, at);
        }
    }

    private static ControllerCommand Command(TestController controller, int kind, int pick)
    {
        var metadata = controller.Current;
        var names = new[] { "orders", "clicks", "logs" };
        var name = names[pick % names.Length];
        var stream = metadata.TryGetStream(name, out var found) ? found : null;
        var shards = metadata.Streams.Values.SelectMany(s => s.Shards).ToList();
        var shard = shards.Count > 0 ? shards[pick % shards.Count] : null;
        var open = stream?.OpenShards;
        var nodes = metadata.Nodes.Keys.ToList();
        switch (kind)
        {
            case 0:
                return controller.Create(name, 1 + (pick % 5), retentionHours: pick % 3 == 0 ? 48 : 0);
            case 1 when open is not null:
                var target = open[pick % open.Count];
                return controller.Split(name, target.ShardId, target.HashKeyRange.Start + ((target.HashKeyRange.End - target.HashKeyRange.Start) / 2) + 1);
            case 2 when open is { Count: > 1 }:
                var i = pick % (open.Count - 1);
                return controller.Merge(name, open[i].ShardId, open[i + 1].ShardId);
            case 3 when open is not null:
                return controller.UpdateCount(name, Math.Max(1, open.Count + ((pick % 3) - 1)));
            case 4 when shard is not null:
                return TestController.Leader(shard.GroupId, nodes[pick % nodes.Count], pick % 4);
            case 5 when shard is not null:
                return TestController.Sealed(shard.GroupId, new SequenceNumber(pick, pick % 3));
            case 6:
                return pick % 2 == 0 ? TestController.Delete(name) : TestController.Deleted(1 + (pick % 4));
            case 7:
                return pick % 2 == 0 ? TestController.Increase(name, 24 + (pick % 100)) : TestController.Decrease(name, 24 + (pick % 100));
            case 8:
                return TestController.AddNode($"extra-{pick % 3}");
            case 9:
                return TestController.Promote(nodes[pick % nodes.Count]);
            case 10:
                return pick % 2 == 0 ? TestController.RemoveNode(nodes[pick % nodes.Count]) : TestController.NodeRemoved(nodes[pick % nodes.Count]);
            case 11 when ReplicaPlacement.PlanNextMove(metadata) is { } move:
                return TestController.MoveStep(move, pick % 3 == 0 ? ReplicaMoveStep.Abandon : metadata.PendingMove is null ? ReplicaMoveStep.Start : ReplicaMoveStep.Finish);
            case 12 when shards.FirstOrDefault(s => s.IsOpen && s.Leader is null) is { } leaderless:
                return TestController.Leader(leaderless.GroupId, leaderless.PreferredLeader, 1);
            case 12 when shards.FirstOrDefault(s => !s.IsOpen && s.EndingSequenceNumber is null) is { } unsealed:
                return TestController.Sealed(unsealed.GroupId, new SequenceNumber(pick, 0));
            case >= 13 and <= 16:
                return GroupCommand(controller, stream, name, kind, pick);
            case >= 17 and <= 20:
                return DeliveryCommands.Any(controller, kind - 17, pick, name);
            default:
                return controller.Create(name, 2);
        }
    }
}
