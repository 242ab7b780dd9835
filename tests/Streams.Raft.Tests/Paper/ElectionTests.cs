using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Paper;

/// <summary>§5.1 (terms) and §5.2 (leader election) of the Raft paper.</summary>
public sealed class ElectionTests
{
    [Fact]
    public void A_follower_that_hears_nothing_for_an_election_timeout_increments_its_term_votes_for_itself_and_requests_votes()
    {
        // §5.2: "If a follower receives no communication over a period of time called the election
        // timeout, then it assumes there is no viable leader and begins an election ... increments
        // its current term ... votes for itself and issues RequestVote RPCs in parallel".
        var cluster = new TestCluster(3);
        cluster.Tick(1, 9);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);

        cluster.Tick(1);

        Assert.Equal(RaftRole.Candidate, cluster[1].Role);
        Assert.Equal(1, cluster[1].Term);
        Assert.Equal(1, cluster[1].Vote);
        var votes = cluster.Take();
        Assert.Equal([2L, 3L], votes.Select(m => m.To).Order());
        Assert.All(votes, m => Assert.Equal((MessageType.Vote, 1L), (m.Type, m.Term)));

        // Persist before send: the vote for itself reached storage in the Ready carrying the requests.
        Assert.Equal(new HardState(1, 1, 0), cluster.Storages[1].InitialState());
    }

    [Fact]
    public void Election_timeouts_are_drawn_in_T_to_2T_from_the_injected_random_source()
    {
        var drawn = new List<int>();
        var random = new RecordingRandom(new Random(5), drawn);
        var node = new RaftNode(new RaftConfig { Id = 1, Voters = [1, 2, 3], ElectionTimeoutTicks = 10, RandomSource = random }, new MemoryRaftLog());
        for (var i = 0; i < 500; i++)
        {
            node.Tick();
            if (node.HasReady)
            {
                node.Advance(node.GetReady());
            }
        }

        Assert.True(drawn.Count > 10);
        Assert.All(drawn, t => Assert.InRange(t, 10, 19));
    }

    [Fact]
    public void A_candidate_that_receives_votes_from_a_majority_becomes_leader_and_appends_a_no_op_of_its_term()
    {
        // §5.2: "A candidate wins an election if it receives votes from a majority of the servers
        // in the full cluster for the same term." Nodes 4 and 5 are unreachable: 3 of 5 suffice.
        var cluster = new TestCluster(5);
        cluster.Elect(1, drop: m => m.To is 4 or 5 || m.From is 4 or 5);

        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Equal(1, cluster[1].Term);
        Assert.Equal((1L, 1L), (cluster[1].LastIndex, cluster[1].LastTerm));
        Assert.Equal(1, cluster[1].CommitIndex);
        Assert.Equal(1, cluster[2].Leader);
    }

    [Fact]
    public void A_candidate_without_a_majority_does_not_become_leader()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1, drop: m => m.To is 3 or 4 or 5 || m.From is 3 or 4 or 5);

        Assert.Equal(RaftRole.Candidate, cluster[1].Role);
    }

    [Fact]
    public void Each_server_votes_for_at_most_one_candidate_in_a_term_first_come_first_served()
    {
        // §5.2: "Each server will vote for at most one candidate in a given term, on a
        // first-come-first-served basis."
        var cluster = new TestCluster(3);
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 1, To = 3, Term = 1 });
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 1 });
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 1, To = 3, Term = 1 });

        var answers = cluster.Take();
        Assert.Equal([(1L, false), (2L, true), (1L, false)], answers.Select(m => (m.To, m.Reject)));
    }

    [Fact]
    public void A_restarted_server_remembers_its_vote()
    {
        var cluster = new TestCluster(3);
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 1, To = 3, Term = 1 });
        cluster.Restart(3);
        cluster.Take();

        cluster.Deliver(new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 1 });

        Assert.True(Assert.Single(cluster.Take()).Reject);
        Assert.Equal(1, cluster[3].Vote);
    }

    [Theory]
    [InlineData(1, 10, false)] // lower last term loses whatever its length
    [InlineData(2, 2, false)] // same last term, shorter log
    [InlineData(2, 3, true)] // same last term, same length
    [InlineData(2, 4, true)] // same last term, longer
    [InlineData(3, 1, true)] // higher last term wins whatever its length
    public void A_vote_is_granted_only_to_a_candidate_whose_log_is_at_least_as_up_to_date(long lastTerm, long lastIndex, bool granted)
    {
        // §5.4.1: "If the logs have last entries with different terms, then the log with the later
        // term is more up-to-date. If the logs end with the same term, then whichever log is
        // longer is more up-to-date." The voter's log ends at 3@2.
        var storage = new MemoryRaftLog();
        storage.Append([TestCluster.E(1, 1), TestCluster.E(2, 2), TestCluster.E(2, 3)]);
        storage.SetHardState(new HardState(2, 0, 0));
        var voter = new RaftNode(new RaftConfig { Id = 1, Voters = [1, 2], RandomSource = new FixedRandomSource() }, storage);

        voter.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 3, Index = lastIndex, LogTerm = lastTerm });

        var answer = Assert.Single(voter.GetReady().Messages);
        Assert.Equal(!granted, answer.Reject);
        Assert.Equal(granted ? 2 : 0, voter.Vote);
    }

    [Fact]
    public void A_candidate_that_hears_from_a_leader_of_its_term_returns_to_follower()
    {
        // §5.2: "If the leader's term ... is at least as large as the candidate's current term,
        // then the candidate recognizes the leader as legitimate and returns to follower state."
        var cluster = new TestCluster(3);
        cluster.Tick(2, 11);
        Assert.Equal(RaftRole.Candidate, cluster[2].Role);
        cluster.Take();

        cluster.Deliver(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 1 });

        Assert.Equal((RaftRole.Follower, 1L), (cluster[2].Role, cluster[2].Leader));
    }

    [Fact]
    public void A_leader_that_discovers_a_higher_term_reverts_to_follower()
    {
        // §5.1: "If a candidate or leader discovers that its term is out of date, it immediately
        // reverts to follower state."
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        cluster.Deliver(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 5 });

        Assert.Equal((RaftRole.Follower, 5L, 0L), (cluster[1].Role, cluster[1].Term, cluster[1].Vote));
    }

    [Fact]
    public void A_request_with_a_stale_term_is_rejected()
    {
        // §5.1: "If a server receives a request with a stale term number, it rejects the request."
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = 4, Index = 9, LogTerm = 9 });
        cluster.Take();
        var lastBefore = cluster[2].LastIndex;

        cluster.Deliver(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 1, Index = 1, LogTerm = 1, Entries = [TestCluster.E(1, 2, "stale")] });
        cluster.Deliver(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 3, Index = 9, LogTerm = 9 });

        Assert.Equal(lastBefore, cluster[2].LastIndex);
        Assert.Equal(4, cluster[2].Term);
        Assert.Equal(3, cluster[2].Vote);
        Assert.Empty(cluster.Take());
    }

    private sealed class RecordingRandom(Random random, List<int> drawn) : IRandomSource
    {
        public int NextInRange(int minInclusive, int maxExclusive)
        {
            var value = random.Next(minInclusive, maxExclusive);
            drawn.Add(value);
            return value;
        }
    }
}
