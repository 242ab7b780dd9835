using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Pre-vote (Raft thesis §9.6): a node that cannot win does not disrupt the term.</summary>
public sealed class PreVoteTests
{
    [Fact]
    public void A_pre_candidate_keeps_its_term_until_a_majority_grants_the_pre_vote()
    {
        var cluster = new TestCluster(3, preVote: true);
        cluster.Tick(1, 10);

        Assert.Equal((RaftRole.PreCandidate, 0L, 0L), (cluster[1].Role, cluster[1].Term, cluster[1].Vote));
        Assert.All(cluster.Outbox, m => Assert.Equal((MessageType.PreVote, 1L), (m.Type, m.Term)));

        cluster.DeliverAll();

        Assert.Equal((RaftRole.Leader, 1L), (cluster[1].Role, cluster[1].Term));
        Assert.Equal(1, cluster[2].Vote);
    }

    [Fact]
    public void A_partitioned_node_with_pre_vote_does_not_raise_its_term_or_depose_the_leader_when_it_returns()
    {
        var cluster = new TestCluster(3, preVote: true);
        cluster.Elect(1);
        cluster.Take();

        // Node 3 is cut off for many election timeouts (its pre-votes go nowhere) while the
        // others commit a new entry, so node 3 cannot win an election any more.
        Func<Message, bool> cut3 = m => m.To == 3 || m.From == 3;
        cluster.Propose(1, "x");
        cluster.DeliverAll(cut3);
        cluster.Tick(3, 100);
        cluster.Take(m => m.From == 3);
        Assert.Equal(1, cluster[3].Term);
        Assert.Equal(RaftRole.PreCandidate, cluster[3].Role);

        // Back on the network and still campaigning: its pre-votes arrive first and are refused
        // (its log is behind), then the leader's heartbeat brings it back. The term never moved.
        cluster.Tick(3, 12);
        cluster.Take(m => m.From == 3).ForEach(cluster.Deliver);
        cluster.Tick(1);
        cluster.DeliverAll();
        Assert.Equal((RaftRole.Leader, 1L), (cluster[1].Role, cluster[1].Term));
        Assert.Equal((RaftRole.Follower, 1L, 1L), (cluster[3].Role, cluster[3].Term, cluster[3].Leader));
    }

    [Fact]
    public void Without_pre_vote_the_same_returning_node_disrupts_the_term()
    {
        // The contrast that motivates pre-vote.
        var cluster = new TestCluster(3, preVote: false);
        cluster.Elect(1);
        cluster.Take();
        cluster.Propose(1, "x");
        cluster.DeliverAll(m => m.To == 3 || m.From == 3);

        cluster.Tick(3, 100);
        cluster.Take(m => m.From == 3);
        Assert.True(cluster[3].Term > 1);

        // Back on the network, its next election (at its higher term) deposes the leader.
        cluster.Tick(3, 12);
        cluster.DeliverAll();
        Assert.True(cluster[1].Term > 1);
        Assert.NotEqual((RaftRole.Leader, 1L), (cluster[1].Role, cluster[1].Term));
    }

    [Fact]
    public void A_pre_vote_is_refused_to_a_node_whose_log_is_behind()
    {
        var nodes = new TestClusterFromStorages([Logs.WithTerms(1, 1), Logs.WithTerms(1, 1, 1), Logs.WithTerms(1, 1, 1)], c => new RaftConfig
        {
            Id = c.Id,
            Voters = c.Voters,
            RandomSource = c.RandomSource,
            PreVote = true,
        });
        nodes.Cluster.Tick(1, 10);
        nodes.Cluster.DeliverAll();

        Assert.Equal(RaftRole.Follower, nodes[1].Role);
        Assert.Equal(1, nodes[1].Term);
        Assert.Equal(1, nodes[2].Term);
    }
}
