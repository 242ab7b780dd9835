using Streams.Raft.Runtime;
using Streams.Raft.Tests.Runtime.Support;

namespace Streams.Raft.Tests.Runtime;

/// <summary>Snapshots through the runtime, over real loopback gRPC.</summary>
public sealed class SnapshotCatchUpTests
{
    [Fact]
    public async Task A_follower_that_was_down_while_the_leader_compacted_its_log_catches_up_from_a_snapshot_sent_in_chunks_and_restarts_from_its_own()
    {
        await using var cluster = await RaftTestCluster.StartAsync(overRpc: true, nodes: 3, [1], o => new RaftGroupOptions
        {
            GroupId = o.GroupId,
            Voters = o.Voters,
            SnapshotEveryEntries = 20,
            SnapshotChunkBytes = 256,
        });
        var leader = await cluster.WaitForLeaderAsync(1);
        var lagging = cluster.NodeIds.First(id => id != leader);
        await cluster.StopNodeAsync(lagging);

        var texts = Enumerable.Range(0, 200).Select(i => $"entry-{i:D3}").ToArray();
        foreach (var text in texts)
        {
            await cluster.ProposeAsync(1, text);
        }

        var leaderNow = await cluster.WaitForLeaderAsync(1);
        var leaderLog = cluster.Storage(leaderNow, 1);
        Assert.True(leaderLog.FirstIndex > 100, $"the leader compacted its log (first index {leaderLog.FirstIndex})");
        Assert.True(leaderLog.Snapshot!.Data.Length > 4 * 256, "the snapshot takes several chunks");

        await cluster.StartNodeAsync(lagging);
        await cluster.WaitForAppliedAsync(1, texts);
        Assert.True(cluster.StateMachine(lagging, 1).Restores >= 1, "the lagging node restored a snapshot");
        Assert.NotNull(cluster.Storage(lagging, 1).Snapshot);

        // Restarted once more, the node rebuilds its state from its own snapshot and log.
        await cluster.StopNodeAsync(lagging);
        await cluster.StartNodeAsync(lagging);
        Assert.Equal(1, cluster.StateMachine(lagging, 1).Restores);
        await cluster.WaitForAppliedAsync(1, texts);
    }
}
