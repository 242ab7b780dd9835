using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Linearizable reads by ReadIndex (Raft thesis §6.4), one test per rule.</summary>
public sealed class ReadIndexTests
{
    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    [Fact]
    public void The_leader_emits_no_ReadState_before_a_majority_acknowledges_a_heartbeat_carrying_the_context()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        var commit = cluster[1].CommitIndex;

        Assert.Equal(ReadIndexStatus.Pending, cluster.Read(1, "r1"));

        var heartbeats = cluster.Take();
        Assert.Equal(4, heartbeats.Count);
        Assert.All(heartbeats, m => Assert.Equal((MessageType.Heartbeat, "r1"), (m.Type, Text(m.Context))));
        cluster.Deliver(heartbeats.Single(m => m.To == 2));
        var first = Assert.Single(cluster.Take());
        Assert.Equal((MessageType.HeartbeatResponse, "r1"), (first.Type, Text(first.Context)));
        cluster.Deliver(first);
        Assert.Empty(cluster.ReadStatesOf(1));

        cluster.Deliver(heartbeats.Single(m => m.To == 3));
        cluster.DeliverAll();

        var state = Assert.Single(cluster.ReadStatesOf(1));
        Assert.Equal((commit, "r1"), (state.Index, Text(state.RequestContext)));
    }

    [Fact]
    public void A_leader_serves_no_read_before_it_commits_an_entry_of_its_term()
    {
        var cluster = new TestCluster(3);
        Func<Message, bool> noAppends = m => m.Type is MessageType.Append or MessageType.AppendResponse;
        cluster.Elect(1, noAppends);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Equal(0, cluster[1].CommitIndex);

        Assert.Equal(ReadIndexStatus.Pending, cluster.Read(1, "r"));
        for (var i = 0; i < 5; i++)
        {
            cluster.Tick(1);
            cluster.DeliverAll(noAppends);
        }

        Assert.Empty(cluster.ReadStatesOf(1));

        // The no-op reaches the followers and commits: the read proceeds, at the new commit index.
        cluster.Tick(1);
        cluster.DeliverAll();

        var state = Assert.Single(cluster.ReadStatesOf(1));
        Assert.Equal((1L, "r"), (state.Index, Text(state.RequestContext)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_partitioned_old_leader_never_produces_a_ReadState(bool checkQuorum)
    {
        var cluster = new TestCluster(3, checkQuorum: checkQuorum);
        cluster.Elect(1);
        Func<Message, bool> isolate1 = m => m.To == 1 || m.From == 1;
        cluster.Take();
        cluster.Tick(2, 10);
        cluster.Tick(3, 10);
        cluster.Take();
        cluster.Elect(2, isolate1);
        Assert.Equal((RaftRole.Leader, 2L), (cluster[2].Role, cluster[2].Term));
        cluster.Propose(2, "new");
        cluster.DeliverAll(isolate1);

        cluster.Read(1, "stale");
        for (var i = 0; i < 30; i++)
        {
            cluster.Tick(1);
            cluster.DeliverAll(isolate1);
        }

        // Healed: the old leader's heartbeats are of a stale term and confirm nothing.
        for (var i = 0; i < 5; i++)
        {
            cluster.Tick(1);
            cluster.DeliverAll();
        }

        Assert.Empty(cluster.ReadStatesOf(1));
        Assert.Empty(cluster.ReadStatesOf(2));
        Assert.Empty(cluster.ReadStatesOf(3));
    }

    [Fact]
    public void A_follower_forwards_the_read_to_the_leader_and_emits_the_ReadState_it_answers_with()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.DeliverAll();

        Assert.Equal(ReadIndexStatus.Forwarded, cluster.Read(2, "f"));
        var forwarded = Assert.Single(cluster.Outbox);
        Assert.Equal((MessageType.ReadIndex, 1L, "f"), (forwarded.Type, forwarded.To, Text(forwarded.Context)));
        cluster.DeliverAll();

        var state = Assert.Single(cluster.ReadStatesOf(2));
        Assert.Equal((cluster[1].CommitIndex, "f"), (state.Index, Text(state.RequestContext)));
        Assert.Empty(cluster.ReadStatesOf(1));
    }

    [Fact]
    public void A_node_that_knows_no_leader_drops_the_read_and_says_so()
    {
        var cluster = new TestCluster(3);

        Assert.Equal(ReadIndexStatus.NoLeader, cluster.Read(2, "r"));

        Assert.Empty(cluster.Outbox);
        Assert.Empty(cluster.ReadStatesOf(2));
    }

    [Fact]
    public void A_single_voter_serves_a_read_at_once()
    {
        var node = new RaftNode(new RaftConfig { Id = 1, Voters = [1], RandomSource = new FixedRandomSource() }, new MemoryRaftLog());
        for (var i = 0; i < 20 && node.Role != RaftRole.Leader; i++)
        {
            node.Tick();
        }

        node.ReadIndex(Encoding.UTF8.GetBytes("one"));

        var state = Assert.Single(node.GetReady().ReadStates);
        Assert.Equal((1L, "one"), (state.Index, Text(state.RequestContext)));
    }
}
