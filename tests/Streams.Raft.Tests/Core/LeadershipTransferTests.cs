using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Leadership transfer (Raft thesis §3.10), one test per rule.</summary>
public sealed class LeadershipTransferTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void The_target_becomes_leader_in_the_next_term_with_a_log_as_up_to_date(bool preVote, bool checkQuorum)
    {
        var cluster = new TestCluster(3, preVote, checkQuorum);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.DeliverAll();
        var (lastIndex, lastTerm) = (cluster[1].LastIndex, cluster[1].LastTerm);

        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(2));
        cluster.Drain(1);
        cluster.DeliverAll();

        Assert.Equal((RaftRole.Leader, 2L), (cluster[2].Role, cluster[2].Term));
        Assert.Equal((RaftRole.Follower, 2L, 2L), (cluster[1].Role, cluster[1].Term, cluster[1].Leader));
        Assert.Equal(lastTerm, cluster[2].Log.Term(lastIndex));
        Assert.Equal((lastIndex + 1, 2L), (cluster[2].LastIndex, cluster[2].LastTerm));
        Assert.Equal(RaftNode.None, cluster[1].LeadTransferee);
    }

    [Fact]
    public void A_target_that_lags_is_caught_up_by_an_append_before_it_receives_TimeoutNow()
    {
        var cluster = new TestCluster(3);
        Func<Message, bool> cut3 = m => m.To == 3 || m.From == 3;
        cluster.Elect(1, cut3);
        cluster.Propose(1, "a");
        cluster.DeliverAll(cut3);
        Assert.True(cluster[3].LastIndex < cluster[1].LastIndex);

        var leaderLast = cluster[1].LastIndex;
        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(3));
        cluster.Drain(1);

        // Heartbeats and appends flow until the transfer completes; note node 3's log at the
        // moment the TimeoutNow reaches it.
        long? lastAtTimeoutNow = null;
        for (var i = 0; i < 5 && cluster[3].Role != RaftRole.Leader; i++)
        {
            cluster.Tick(1);
            cluster.DeliverAll(m =>
            {
                if (m.Type == MessageType.TimeoutNow)
                {
                    lastAtTimeoutNow = cluster[3].LastIndex;
                }

                return false;
            });
        }

        Assert.Equal(leaderLast, lastAtTimeoutNow);
        Assert.Equal((RaftRole.Leader, 2L), (cluster[3].Role, cluster[3].Term));
    }

    [Fact]
    public void The_leader_refuses_proposals_while_it_transfers()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[1].TransferLeadership(2);
        var last = cluster[1].LastIndex;

        var result = cluster[1].Propose(new byte[] { 1 });

        Assert.Equal((ProposeStatus.TransferInProgress, 1L), (result.Status, result.LeaderHint));
        Assert.Equal(last, cluster[1].LastIndex);
    }

    [Fact]
    public void A_transfer_that_does_not_complete_within_an_election_timeout_is_abandoned()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[1].TransferLeadership(2);
        cluster.Drain(1);
        cluster.Take();

        // The TimeoutNow is lost: the leader keeps its role and accepts proposals again.
        cluster.Tick(1, 9);
        Assert.Equal(ProposeStatus.TransferInProgress, cluster[1].Propose(new byte[1]).Status);
        cluster.Tick(1);

        Assert.Equal((RaftRole.Leader, RaftNode.None), (cluster[1].Role, cluster[1].LeadTransferee));
        Assert.True(cluster[1].Propose(new byte[1]).IsAccepted);
    }

    [Fact]
    public void A_transfer_to_self_to_a_non_voter_or_from_a_non_leader_changes_nothing()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Take();

        Assert.Equal(TransferLeadershipStatus.TargetIsSelf, cluster[1].TransferLeadership(1));
        Assert.Equal(TransferLeadershipStatus.TargetNotVoter, cluster[1].TransferLeadership(9));
        Assert.Equal(TransferLeadershipStatus.NotLeader, cluster[2].TransferLeadership(3));
        cluster.DrainAll();

        Assert.Empty(cluster.Outbox);
        Assert.Equal(RaftNode.None, cluster[1].LeadTransferee);
        Assert.True(cluster[1].Propose(new byte[1]).IsAccepted);

        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(2));
        Assert.Equal(TransferLeadershipStatus.AlreadyInProgress, cluster[1].TransferLeadership(3));
        Assert.Equal(2, cluster[1].LeadTransferee);
    }

    [Fact]
    public void TimeoutNow_skips_pre_vote_and_its_vote_requests_pass_the_check_quorum_lease()
    {
        var cluster = new TestCluster(3, preVote: true, checkQuorum: true);
        cluster.Elect(1);
        cluster.DeliverAll();

        cluster.Deliver(new Message { Type = MessageType.TimeoutNow, From = 1, To = 2, Term = 1 });

        Assert.Equal((RaftRole.Candidate, 2L), (cluster[2].Role, cluster[2].Term));
        var votes = cluster.Take();
        Assert.All(votes, m => Assert.Equal((MessageType.Vote, true), (m.Type, m.Transfer)));

        // Node 3 heard from leader 1 just now (it is in the lease) and still votes.
        cluster.Deliver(votes.Single(m => m.To == 3));
        var answer = Assert.Single(cluster.Take());
        Assert.Equal((MessageType.VoteResponse, false), (answer.Type, answer.Reject));
    }

    [Fact]
    public void TimeoutNow_is_ignored_by_a_node_that_is_not_in_the_configuration()
    {
        var node = new RaftNode(new RaftConfig { Id = 4, Voters = [1, 2, 3], RandomSource = new FixedRandomSource() }, new MemoryRaftLog());

        node.Step(new Message { Type = MessageType.TimeoutNow, From = 1, To = 4, Term = 1 });
        for (var i = 0; i < 50; i++)
        {
            node.Tick();
        }

        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Empty(node.GetReady().Messages);
    }

    [Fact]
    public void TimeoutNow_from_a_node_that_is_not_in_the_configuration_is_ignored()
    {
        var cluster = new TestCluster(3);

        cluster.Deliver(new Message { Type = MessageType.TimeoutNow, From = 9, To = 2, Term = 0 });

        Assert.Equal((RaftRole.Follower, 0L), (cluster[2].Role, cluster[2].Term));
        Assert.Empty(cluster.Outbox);
    }
}
