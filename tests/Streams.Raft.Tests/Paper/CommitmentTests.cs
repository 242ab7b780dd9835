using Streams.Raft.Core;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Paper;

/// <summary>§5.4.2 (committing entries from previous terms, Figure 8) of the Raft paper.</summary>
public sealed class CommitmentTests
{
    [Fact]
    public void Entries_from_previous_terms_are_not_committed_by_counting_replicas()
    {
        // §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only
        // log entries from the leader's current term are committed by counting replicas."
        var leader = ReplicateOldEntryToOneFollower(unsafeRule: false);

        Assert.Equal(2, leader.ProgressOf(2)!.Match);
        Assert.Equal(0, leader.CommitIndex);
    }

    [Fact]
    public void The_check_fails_when_the_rule_is_deliberately_broken()
    {
        // The same scenario with the test-only flag that counts replicas of old entries: the old
        // entry 2@2 is committed, which is exactly the Figure 8 hazard.
        var leader = ReplicateOldEntryToOneFollower(unsafeRule: true);

        Assert.Equal(2, leader.CommitIndex);
    }

    [Fact]
    public void Entries_of_previous_terms_commit_indirectly_once_an_entry_of_the_current_term_commits()
    {
        // §5.4.2: "once an entry from the current term has been committed ..., then all prior
        // entries are committed indirectly because of the Log Matching Property."
        var nodes = new TestClusterFromStorages([Logs.WithTerms(2, 1, 2), Logs.WithTerms(2, 1), Logs.WithTerms(2, 1)]);
        nodes.Elect(1, drop: m => m.To == 3 || m.From == 3);

        Assert.Equal(3, nodes[1].CommitIndex);
        Assert.Equal((3L, 3L), (nodes[1].LastIndex, nodes[1].LastTerm));
    }

    /// <summary>
    /// Node 1 holds 1@1 2@2 (2@2 from its earlier term), nodes 2 and 3 hold 1@1. Node 1 is elected
    /// in term 3 and appends its no-op 3@3; node 3 is unreachable. Messages to node 2 are delivered
    /// one by one until node 2 holds 2@2 but not yet 3@3: a majority (1, 2) stores 2@2.
    /// </summary>
    private static RaftNode ReplicateOldEntryToOneFollower(bool unsafeRule)
    {
        var nodes = new TestClusterFromStorages(
            [Logs.WithTerms(2, 1, 2), Logs.WithTerms(2, 1), Logs.WithTerms(2, 1)],
            c => new RaftConfig
            {
                Id = c.Id,
                Voters = c.Voters,
                RandomSource = c.RandomSource,
                MaxEntriesPerMessage = 1,
                UnsafeCommitEntriesOfEarlierTerms = unsafeRule,
            });
        var cluster = nodes.Cluster;
        cluster.Tick(1, 10);
        for (var votes = cluster.Take(IsVoting); votes.Count > 0; votes = cluster.Take(IsVoting))
        {
            votes.ForEach(cluster.Deliver);
        }

        Assert.Equal(RaftRole.Leader, nodes[1].Role);
        Assert.Equal((3L, 3L), (nodes[1].LastIndex, nodes[1].LastTerm));

        for (var i = 0; i < 100 && nodes[1].ProgressOf(2)!.Match < 2; i++)
        {
            var next = cluster.Outbox[0];
            cluster.Outbox.RemoveAt(0);
            if (next.To != 3 && next.From != 3)
            {
                cluster.Deliver(next);
            }
        }

        Assert.Equal(2, nodes[2].LastIndex);
        return nodes[1];
    }

    private static bool IsVoting(Messages.Message m) => m.Type is Messages.MessageType.Vote or Messages.MessageType.VoteResponse;
}
