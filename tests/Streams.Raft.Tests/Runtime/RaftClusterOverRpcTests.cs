using System.Text;
using Streams.Raft.Runtime;
using Streams.Raft.Tests.Runtime.Support;

namespace Streams.Raft.Tests.Runtime;

/// <summary>
/// Three nodes, each a Kestrel server on a free loopback port with a <see cref="RaftHost"/>
/// hosting the same three groups, talking over <c>streams.raft.v1.RaftTransport</c>. Ticks are
/// 20 ms (elections after 200–400 ms of silence); waits are generous, nothing asserts timing.
/// </summary>
public sealed class RaftClusterOverRpcTests : IAsyncLifetime
{
    private static readonly long[] _groups = [1, 2, 3];
    private RaftTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await RaftTestCluster.StartAsync(overRpc: true, nodes: 3, _groups);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_group_elects_a_leader_and_all_three_state_machines_apply_the_same_entries()
    {
        foreach (var groupId in _groups)
        {
            var leader = await _cluster.WaitForLeaderAsync(groupId);
            var group = _cluster.Group(leader, groupId);

            // Concurrent proposals share rounds (one Ready, one save, one batch per peer).
            var texts = Enumerable.Range(0, 50).Select(i => $"g{groupId}-{i}").ToArray();
            var indexes = await Task.WhenAll(texts.Select(t => group.ProposeAsync(Encoding.UTF8.GetBytes(t), CancellationToken.None).AsTask()));

            Assert.Equal(texts.Length, indexes.Distinct().Count());
            var applied = _cluster.StateMachine(leader, groupId).Texts;
            Assert.Equal(texts.Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
            await _cluster.WaitForAppliedAsync(groupId, applied);
        }
    }

    [Fact]
    public async Task A_proposal_at_a_follower_is_refused_with_the_leader_as_hint()
    {
        var leader = await _cluster.WaitForLeaderAsync(1);
        var follower = _cluster.NodeIds.First(id => id != leader);

        var refused = await Assert.ThrowsAsync<NotLeaderException>(
            () => _cluster.Group(follower, 1).ProposeAsync("nope"u8.ToArray(), CancellationToken.None).AsTask());

        Assert.Equal(leader, refused.LeaderHint);
        Assert.Equal(follower, refused.NodeId);
        Assert.False(refused.MayHaveCommitted);
    }

    [Fact]
    public async Task ReadIndex_on_the_leader_and_on_a_follower_waits_until_the_local_state_machine_holds_every_earlier_write()
    {
        var leader = await _cluster.WaitForLeaderAsync(2);
        var written = await _cluster.Group(leader, 2).ProposeAsync("written"u8.ToArray(), CancellationToken.None);

        foreach (var nodeId in _cluster.NodeIds)
        {
            var readIndex = await _cluster.Group(nodeId, 2).ReadIndexAsync(CancellationToken.None);

            Assert.True(readIndex >= written, $"read index {readIndex} on node {nodeId} is before the write at {written}");
            Assert.True(_cluster.StateMachine(nodeId, 2).AppliedIndex >= readIndex);
            Assert.Contains("written", _cluster.StateMachine(nodeId, 2).Texts);
        }
    }

    [Fact]
    public async Task When_the_leader_stops_the_other_two_elect_a_new_one_and_keep_committing()
    {
        var oldLeader = await _cluster.WaitForLeaderAsync(3);
        await _cluster.ProposeAsync(3, "before");
        await _cluster.WaitForAppliedAsync(3, ["before"]);

        await _cluster.StopNodeAsync(oldLeader);
        var newLeader = await _cluster.WaitForLeaderAsync(3);
        await _cluster.ProposeAsync(3, "after");

        Assert.NotEqual(oldLeader, newLeader);
        await Eventually.TrueAsync(
            () => _cluster.RunningNodes.All(id => _cluster.StateMachine(id, 3).Texts.Contains("after")),
            "both remaining nodes applied the entry proposed after the failover");
        var survivors = _cluster.RunningNodes.ToArray();
        Assert.Equal(_cluster.StateMachine(survivors[0], 3).Texts, _cluster.StateMachine(survivors[1], 3).Texts);
    }

    [Fact]
    public async Task Cancelling_a_proposal_that_waits_to_be_applied_ends_the_wait()
    {
        var leader = await _cluster.WaitForLeaderAsync(1);
        var gate = _cluster.StateMachine(leader, 1).BlockApplying();
        using var cancel = new CancellationTokenSource();
        var proposal = _cluster.Group(leader, 1).ProposeAsync("held"u8.ToArray(), cancel.Token).AsTask();
        await Task.Delay(100);
        Assert.False(proposal.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => proposal);
        gate.SetResult();
        await Eventually.TrueAsync(() => _cluster.StateMachine(leader, 1).Texts.Contains("held"), "the entry is applied once applying resumes");
    }

    [Fact]
    public async Task A_proposal_with_a_cancelled_token_is_not_proposed()
    {
        var leader = await _cluster.WaitForLeaderAsync(1);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _cluster.Group(leader, 1).ProposeAsync("never"u8.ToArray(), new CancellationToken(canceled: true)).AsTask());
    }

    [Fact]
    public async Task Heartbeats_between_the_nodes_flow_as_batches_and_nothing_is_dropped_while_all_run()
    {
        foreach (var groupId in _groups)
        {
            await _cluster.WaitForLeaderAsync(groupId);
        }

        // Counted over a window once all run: before that, a batch may fail on a peer whose server
        // was still starting.
        var sent = _cluster.NodeIds.ToDictionary(id => id, id => _cluster.Node(id).Transport!.MessagesSent);
        var failed = _cluster.NodeIds.ToDictionary(id => id, id => _cluster.Node(id).Transport!.FailedBatches);
        await Task.Delay(500);

        foreach (var nodeId in _cluster.NodeIds)
        {
            var transport = _cluster.Node(nodeId).Transport!;
            Assert.True(transport.MessagesSent > sent[nodeId], $"node {nodeId} sent nothing in 500 ms");
            Assert.Equal(failed[nodeId], transport.FailedBatches);
        }
    }
}
