using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Lease reads (thesis §6.4.1): served at once within the lease, by a heartbeat round outside it.</summary>
public sealed class LeaseReadTests
{
    private static TestCluster LeaseCluster() =>
        new(3, checkQuorum: true, configure: (_, c) => new RaftConfig
        {
            Id = c.Id,
            Voters = c.Voters,
            ElectionTimeoutTicks = c.ElectionTimeoutTicks,
            HeartbeatTimeoutTicks = c.HeartbeatTimeoutTicks,
            CheckQuorum = true,
            ReadOnly = ReadOnlyMode.LeaseBased,
            MaxClockDriftTicks = 2,
            RandomSource = c.RandomSource,
        });

    private static TestCluster ElectedWithLease()
    {
        var cluster = LeaseCluster();

        // Fresh nodes honour a lease they cannot remember for an election timeout before voting.
        // Node 1 times out after 10 ticks, node 2 after 11, node 3 after 12.
        cluster.Tick(1, 9);
        cluster.Tick(2, 10);
        cluster.Tick(3, 10);
        cluster.Elect(1);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);

        // One heartbeat round acknowledged by the followers starts the lease.
        cluster.Tick(1);
        cluster.DeliverAll();
        return cluster;
    }

    [Fact]
    public void Within_the_lease_a_read_is_answered_at_once_without_a_heartbeat_round()
    {
        var cluster = ElectedWithLease();

        cluster.Read(1, "now");

        Assert.Empty(cluster.Outbox);
        var state = Assert.Single(cluster.ReadStatesOf(1));
        Assert.Equal((cluster[1].CommitIndex, "now"), (state.Index, Encoding.UTF8.GetString(state.RequestContext.Span)));
    }

    [Fact]
    public void Once_the_followers_go_quiet_for_an_election_timeout_less_the_drift_bound_reads_need_a_heartbeat_round()
    {
        var cluster = ElectedWithLease();

        // The heartbeat round that started the lease was sent 0 ticks ago; 10 - 2 ticks later it has lapsed.
        for (var i = 0; i < 8; i++)
        {
            cluster.Tick(1);
            cluster.Take();
        }

        cluster.Read(1, "late");

        Assert.Empty(cluster.ReadStatesOf(1));
        Assert.Contains(cluster.Outbox, m => m.Type == MessageType.Heartbeat && Encoding.UTF8.GetString(m.Context.Span) == "late");
        cluster.DeliverAll();
        Assert.Single(cluster.ReadStatesOf(1));
    }

    [Fact]
    public void After_sending_TimeoutNow_the_leader_no_longer_trusts_its_lease()
    {
        var cluster = ElectedWithLease();
        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(2));
        cluster.Drain(1);
        Assert.Contains(cluster.Take(), m => m.Type == MessageType.TimeoutNow);

        cluster.Read(1, "after-transfer");

        // The target's election passes the followers' leases, so only a heartbeat round is safe.
        Assert.Empty(cluster.ReadStatesOf(1));
    }

    [Fact]
    public void A_node_that_just_started_refuses_votes_for_an_election_timeout()
    {
        var cluster = LeaseCluster();
        cluster.Tick(2, 25);
        var votes = cluster.Take(m => m.Type is MessageType.Vote or MessageType.PreVote && m.To == 3);
        Assert.NotEmpty(votes);

        // Node 3 has ticked fewer times than an election timeout: it may have promised a lease
        // before a crash, so it stays silent.
        cluster.Deliver(votes[0]);
        Assert.DoesNotContain(cluster.Outbox, m => m.From == 3 && m.Type == MessageType.VoteResponse && !m.Reject);
    }

    [Fact]
    public void A_leader_whose_clock_runs_slower_than_the_drift_bound_serves_a_stale_read()
    {
        // The lease's one assumption, shown by breaking it: node 1's clock stands still while the
        // followers' clocks run an election timeout and more, elect node 2 and commit a write.
        var cluster = ElectedWithLease();
        Func<Message, bool> isolated = m => m.From == 1 || m.To == 1;
        cluster.Tick(2, 11);
        cluster.Tick(3, 11);
        cluster.DeliverAll(isolated);
        cluster.Elect(2, isolated);
        Assert.Equal(RaftRole.Leader, cluster[2].Role);
        cluster.Propose(2, "newer");
        cluster.DeliverAll(isolated);

        cluster.Read(1, "stale");

        var state = Assert.Single(cluster.ReadStatesOf(1));
        Assert.True(state.Index < cluster[2].CommitIndex, "the old leader answered from its lease");
    }

    [Fact]
    public void Lease_reads_need_check_quorum()
    {
        var config = new RaftConfig { Id = 1, Voters = [1], ReadOnly = ReadOnlyMode.LeaseBased, RandomSource = new FixedRandomSource() };

        var error = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains("CheckQuorum", error.Message, StringComparison.Ordinal);
    }
}
