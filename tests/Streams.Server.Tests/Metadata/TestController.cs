using Google.Protobuf;
using Streams.Client.Routing;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>A controller state with a clock of its own and short ways to build and apply commands.</summary>
internal sealed class TestController
{
    public ControllerState State { get; } = new();

    public long NowMs { get; set; } = 1_700_000_000_000;

    public ClusterMetadata Current => State.Current;

    public static TestController Bootstrapped(int nodes = 3, MetadataLimits? limits = null)
    {
        var controller = new TestController();
        controller.Ok(Bootstrap(nodes, limits));
        return controller;
    }

    public static ControllerCommand Bootstrap(int nodes, MetadataLimits? limits = null)
    {
        var command = new BootstrapCommand { IteratorSecret = ByteString.CopyFrom(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()), TimestampUnixMs = 1_600_000_000_000, Limits = limits?.ToSpec() };
        for (var i = 1; i <= nodes; i++)
        {
            command.Nodes.Add(new NodeSpec { NodeId = $"node-{i}", Address = $"http://10.0.0.{i}:7400", RaftId = i });
        }

        return new ControllerCommand { Bootstrap = command };
    }

    public ApplyResult Apply(ControllerCommand command) => State.Apply(command);

    public ApplyResult Ok(ControllerCommand command)
    {
        var result = State.Apply(command);
        Assert.True(result.Succeeded, $"{command.CommandCase} refused: {result.Error}");
        return result;
    }

    public MetadataError Refused(ControllerCommand command)
    {
        var before = State.Snapshot();
        var result = State.Apply(command);
        Assert.False(result.Succeeded, $"{command.CommandCase} was not refused");
        Assert.Equal(before, State.Snapshot());
        return result.Error!;
    }

    public StreamRecord Stream(string name) => Current.Streams[name];

    /// <summary>Creates a stream and makes it ACTIVE, as its groups would by electing leaders.</summary>
    public StreamRecord CreateActive(string name, int shards, int replicationFactor = 0)
    {
        Ok(Create(name, shards, replicationFactor));
        Settle();
        Assert.Equal(StreamStatus.Active, Stream(name).Status);
        return Stream(name);
    }

    /// <summary>Reports a leader (the preferred one, term 1) for every open shard without one and a seal for every closed shard without one.</summary>
    public void Settle()
    {
        foreach (var stream in Current.Streams.Values)
        {
            foreach (var shard in stream.Shards)
            {
                if (shard.IsOpen && shard.Leader is null)
                {
                    Ok(Leader(shard.GroupId, shard.PreferredLeader, 1));
                }
                else if (!shard.IsOpen && shard.EndingSequenceNumber is null)
                {
                    Ok(Sealed(shard.GroupId, new SequenceNumber(shard.GroupId * 10, 0)));
                }
            }
        }
    }

    public ControllerCommand Create(string name, int shards, int replicationFactor = 0, int retentionHours = 0) =>
        new() { CreateStream = new CreateStreamCommand { StreamName = name, ShardCount = shards, ReplicationFactor = replicationFactor, RetentionPeriodHours = retentionHours, TimestampUnixMs = Tick() } };

    public ControllerCommand Split(string name, string shardId, UInt128 newStart) =>
        Split(name, shardId, HashKey.Format(newStart));

    public ControllerCommand Split(string name, string shardId, string newStart) =>
        new() { SplitShard = new SplitShardCommand { StreamName = name, ShardToSplit = shardId, NewStartingHashKey = newStart, TimestampUnixMs = Tick() } };

    public ControllerCommand Merge(string name, string shardId, string adjacentId) =>
        new() { MergeShards = new MergeShardsCommand { StreamName = name, ShardToMerge = shardId, AdjacentShardToMerge = adjacentId, TimestampUnixMs = Tick() } };

    public ControllerCommand UpdateCount(string name, int target, int scalingType = 1) =>
        new() { UpdateShardCount = new UpdateShardCountCommand { StreamName = name, TargetShardCount = target, ScalingType = scalingType, TimestampUnixMs = Tick() } };

    public static ControllerCommand Delete(string name) => new() { DeleteStream = new DeleteStreamCommand { StreamName = name } };

    public static ControllerCommand Deleted(long streamId) => new() { StreamDeleted = new StreamDeletedCommand { StreamId = streamId } };

    public static ControllerCommand Increase(string name, int hours) => new() { IncreaseRetention = new RetentionCommand { StreamName = name, RetentionPeriodHours = hours } };

    public static ControllerCommand Decrease(string name, int hours) => new() { DecreaseRetention = new RetentionCommand { StreamName = name, RetentionPeriodHours = hours } };

    public static ControllerCommand Leader(long groupId, string nodeId, long term) =>
        new() { ReportShardLeader = new ReportShardLeaderCommand { GroupId = groupId, NodeId = nodeId, Term = term } };

    public static ControllerCommand Sealed(long groupId, SequenceNumber ending) =>
        new() { ReportShardSealed = new ReportShardSealedCommand { GroupId = groupId, EndingSequenceNumber = ending.ToString() } };

    public static ControllerCommand AddNode(string nodeId, long raftId = 0) =>
        new() { AddNode = new AddNodeCommand { NodeId = nodeId, Address = $"http://{nodeId}:7400", RaftId = raftId } };

    public static ControllerCommand Promote(string nodeId) => new() { PromoteNode = new PromoteNodeCommand { NodeId = nodeId } };

    public static ControllerCommand RemoveNode(string nodeId) => new() { RemoveNode = new RemoveNodeCommand { NodeId = nodeId } };

    public static ControllerCommand NodeRemoved(string nodeId) => new() { NodeRemoved = new NodeRemovedCommand { NodeId = nodeId } };

    public static ControllerCommand MoveStep(ReplicaMove move, ReplicaMoveStep step) =>
        new() { ReplicaMoveStep = new ReplicaMoveStepCommand { GroupId = move.GroupId, FromNode = move.FromNode, ToNode = move.ToNode, Step = step } };

    /// <summary>Plans and carries out moves (START then FINISH) until none is left; returns them.</summary>
    public List<ReplicaMove> RunMoves(int max = 1000)
    {
        var moves = new List<ReplicaMove>();
        while (ReplicaPlacement.PlanNextMove(Current) is { } move)
        {
            Assert.True(moves.Count < max, "the moves never end");
            Ok(MoveStep(move, ReplicaMoveStep.Start));
            Assert.Equal(move, ReplicaPlacement.PlanNextMove(Current));
            Ok(MoveStep(move, ReplicaMoveStep.Finish));
            moves.Add(move);
        }

        return moves;
    }

    private long Tick() => NowMs += 1000;
}
