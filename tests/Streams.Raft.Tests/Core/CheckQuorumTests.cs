using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Check-quorum: a leader must keep hearing from a majority; followers honour its lease.</summary>
public sealed class CheckQuorumTests
{
    [Fact]
    public void A_leader_that_hears_from_no_majority_within_an_election_timeout_steps_down()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        cluster.Elect(1);

        for (var i = 0; i < 20; i++)
        {
            cluster.Tick(1);
            cluster.Take();
        }

        Assert.Equal((RaftRole.Follower, 1L, 0L), (cluster[1].Role, cluster[1].Term, cluster[1].Leader));
        Assert.Equal(ProposeStatus.NotLeader, cluster[1].Propose(new byte[1]).Status);
    }

    [Fact]
    public void A_leader_that_hears_from_a_majority_stays_leader()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        Func<Message, bool> cut3 = m => m.To == 3 || m.From == 3;
        cluster.Elect(1, cut3);

        for (var i = 0; i < 50; i++)
        {
            cluster.Tick(1);
            cluster.DeliverAll(cut3);
        }

        Assert.Equal((RaftRole.Leader, 1L), (cluster[1].Role, cluster[1].Term));
    }

    [Fact]
    public void Without_check_quorum_an_isolated_leader_stays_leader()
    {
        var cluster = new TestCluster(3, checkQuorum: false);
        cluster.Elect(1);

        cluster.Tick(1, 50);

        Assert.Equal(RaftRole.Leader, cluster[1].Role);
    }

    [Fact]
    public void A_follower_that_heard_from_its_leader_within_the_timeout_ignores_vote_requests()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        cluster.Elect(1);
        cluster.Take();

        cluster.Deliver(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = 2, Index = 100, LogTerm = 100 });

        Assert.Equal((1L, 1L), (cluster[2].Term, cluster[2].Leader));
        Assert.Empty(cluster.Take());
    }

    [Fact]
    public void A_stale_leader_learns_the_newer_term_from_the_answer_to_its_append()
    {
        var cluster = new TestCluster(3, checkQuorum: true);
        cluster.Elect(1);
        cluster.Take();
        cluster.Deliver(new Message { Type = MessageType.Append, From = 3, To = 2, Term = 5, Index = 1, LogTerm = 1 });
        cluster.Take();

        cluster.Tick(1);
        cluster.DeliverAll();

        Assert.Equal((RaftRole.Follower, 5L), (cluster[1].Role, cluster[1].Term));
    }
}
