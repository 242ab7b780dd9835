using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Runtime.Support;
using Streams.Raft.Transport;

namespace Streams.Raft.Tests.Runtime;

/// <summary>The runtime's promises, over an in-memory network (no sockets) with 20 ms ticks.</summary>
public sealed class RaftGroupTests
{
    private static readonly RaftHostOptions _fastTicks = new() { TickInterval = TimeSpan.FromMilliseconds(20) };

    [Fact]
    public async Task Leadership_transfer_completes_once_the_target_leads()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: false, nodes: 3, [1]);
        var leader = await cluster.WaitForLeaderAsync(1);
        await cluster.ProposeAsync(1, "before");
        var target = cluster.NodeIds.First(id => id != leader);

        await cluster.Group(leader, 1).TransferLeadershipAsync(target, CancellationToken.None);

        Assert.Equal(target, await cluster.WaitForLeaderAsync(1));
        await cluster.ProposeAsync(1, "after");
        await cluster.WaitForAppliedAsync(1, ["before", "after"]);
    }

    [Fact]
    public async Task Leadership_transfer_to_a_node_that_is_not_a_voter_fails()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: false, nodes: 3, [1]);
        var leader = await cluster.WaitForLeaderAsync(1);

        await Assert.ThrowsAsync<LeadershipTransferFailedException>(
            () => cluster.Group(leader, 1).TransferLeadershipAsync(99, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task A_learner_added_at_run_time_catches_up_and_is_then_promoted_to_voter()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: false, nodes: 3, [1]);
        await cluster.ProposeAsync(1, "a");
        await cluster.ProposeAsync(1, "b");
        var leader = await cluster.WaitForLeaderAsync(1);

        await cluster.Group(leader, 1).ProposeConfChangeAsync(ConfChange.AddLearner(4), CancellationToken.None);
        await cluster.StartNodeAsync(4, [1], groupId => new RaftGroupOptions { GroupId = groupId, Voters = [] });
        await cluster.WaitForAppliedAsync(1, ["a", "b"]);
        Assert.Equal([4L], (await cluster.Group(leader, 1).GetConfStateAsync(CancellationToken.None)).Learners);

        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await cluster.Group(leader, 1).ProposeConfChangeAsync(ConfChange.Promote(4), CancellationToken.None);
                    return true;
                }
                catch (MembershipChangeRefusedException)
                {
                    return false;
                }
            },
            "the leader accepts to promote the learner once it caught up");
        var conf = await cluster.Group(4, 1).GetConfStateAsync(CancellationToken.None);
        Assert.Equal([1L, 2L, 3L, 4L], conf.Voters);
        await cluster.ProposeAsync(1, "c");
        await cluster.WaitForAppliedAsync(1, ["a", "b", "c"]);
    }

    [Fact]
    public async Task A_leader_cut_off_from_the_others_fails_its_pending_proposals_with_NotLeader_when_it_steps_down()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: false, nodes: 3, [1]);
        var leader = await cluster.WaitForLeaderAsync(1);
        cluster.Network.Isolate(leader);

        var lost = await Assert.ThrowsAsync<NotLeaderException>(
            () => cluster.Group(leader, 1).ProposeAsync("stranded"u8.ToArray(), CancellationToken.None).AsTask());

        Assert.True(lost.MayHaveCommitted);
        cluster.Network.Heal(leader);
        await cluster.ProposeAsync(1, "after");
        await Eventually.TrueAsync(
            () => cluster.RunningNodes.All(id => cluster.StateMachine(id, 1).Texts.Contains("after")),
            "every node applied the entry proposed after the partition healed");
    }

    [Fact]
    public async Task A_failing_state_machine_stops_the_group_and_fails_its_requests_now_and_later()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: false, nodes: 3, [1]);
        var leader = await cluster.WaitForLeaderAsync(1);
        var group = cluster.Group(leader, 1);
        cluster.StateMachine(leader, 1).FailNextApply = new InvalidOperationException("state machine broke");

        var stopped = await Assert.ThrowsAsync<RaftGroupStoppedException>(() => group.ProposeAsync("x"u8.ToArray(), CancellationToken.None).AsTask());

        Assert.IsType<InvalidOperationException>(stopped.InnerException);
        await Assert.ThrowsAsync<InvalidOperationException>(() => group.Completion);
        await Assert.ThrowsAsync<RaftGroupStoppedException>(() => group.ReadIndexAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task A_failed_write_stops_the_group_and_nothing_is_applied_after_it()
    {
        var network = new InMemoryRaftNetwork();
        var host = new RaftHost(1, network.Attach(1, new NullHandler()), _fastTicks);
        await using var _ = host;
        var storage = new FailingStorage();
        var stateMachine = new ListStateMachine();
        var group = await host.AddGroupAsync(new RaftGroupOptions { GroupId = 5, Voters = [1] }, storage, stateMachine);
        await Eventually.TrueAsync(() => group.Status.IsLeader, "the single node leads");
        await group.ProposeAsync("durable"u8.ToArray(), CancellationToken.None);
        storage.FailWrites = true;

        var stopped = await Assert.ThrowsAsync<RaftGroupStoppedException>(() => group.ProposeAsync("lost"u8.ToArray(), CancellationToken.None).AsTask());

        Assert.IsType<IOException>(stopped.InnerException);
        Assert.Equal(["durable"], stateMachine.Texts);
    }

    [Fact]
    public async Task ReadIndex_fails_with_a_timeout_when_no_leader_can_be_elected()
    {
        var network = new InMemoryRaftNetwork();
        await using var host = new RaftHost(1, network.Attach(1, new NullHandler()), _fastTicks);
        var group = await host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1, 2, 3], ReadIndexTimeoutTicks = 10 }, new MemoryRaftLog(), new ListStateMachine());

        await Assert.ThrowsAsync<TimeoutException>(() => group.ReadIndexAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Removing_a_group_fails_its_pending_requests_and_refuses_new_ones()
    {
        var network = new InMemoryRaftNetwork();
        await using var host = new RaftHost(1, network.Attach(1, new NullHandler()), _fastTicks);
        var stateMachine = new ListStateMachine();
        var group = await host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1] }, new MemoryRaftLog(), stateMachine);
        await Eventually.TrueAsync(() => group.Status.IsLeader, "the single node leads");
        await Eventually.TrueAsync(() => group.Status.AppliedIndex >= 1, "the leader's no-op is applied");
        stateMachine.BlockApplying();
        var pending = group.ProposeAsync("pending"u8.ToArray(), CancellationToken.None).AsTask();

        Assert.True(await host.RemoveGroupAsync(1));

        await Assert.ThrowsAsync<RaftGroupStoppedException>(() => pending);
        await Assert.ThrowsAsync<RaftGroupStoppedException>(() => group.ProposeAsync("late"u8.ToArray(), CancellationToken.None).AsTask());
        Assert.False(host.TryGetGroup(1, out _));
        await group.Completion;
    }

    [Fact]
    public async Task Messages_for_groups_not_hosted_or_for_other_nodes_are_dropped()
    {
        var network = new InMemoryRaftNetwork();
        await using var host = new RaftHost(1, network.Attach(1, new NullHandler()), _fastTicks);
        await host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1, 2, 3] }, new MemoryRaftLog(), new ListStateMachine());

        host.Deliver(42, new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 5 });
        host.Deliver(1, new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 5 });

        Assert.Equal(0, host.Groups.Single().Status.Term);
    }

    [Fact]
    public async Task Adding_a_group_twice_is_refused_and_invalid_options_say_what_to_change()
    {
        var network = new InMemoryRaftNetwork();
        await using var host = new RaftHost(1, network.Attach(1, new NullHandler()), _fastTicks);
        await host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1] }, new MemoryRaftLog(), new ListStateMachine());

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1] }, new MemoryRaftLog(), new ListStateMachine()).AsTask());
        var invalid = await Assert.ThrowsAsync<ArgumentException>(
            () => host.AddGroupAsync(new RaftGroupOptions { GroupId = 2, Voters = [1], HeartbeatTimeoutTicks = 10 }, new MemoryRaftLog(), new ListStateMachine()).AsTask());
        Assert.Contains("HeartbeatTimeoutTicks", invalid.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RaftHostOptions { TickInterval = TimeSpan.Zero }.Validate());
    }

    private sealed class NullHandler : IRaftMessageHandler
    {
        public void Deliver(long groupId, Message message)
        {
        }
    }
}
