using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>
/// Single-node membership changes (thesis §4.1–4.3): learners, promotion, removal (the leader
/// itself included), one change at a time, and configurations undone by truncation.
/// </summary>
public sealed class MembershipTests
{
    private static Func<Message, bool> Cut(params long[] ids) => m => ids.Contains(m.To) || ids.Contains(m.From);

    /// <summary>A 3-voter group led by node 1, with node 4 started outside it and added as a learner.</summary>
    private static TestCluster WithLearner4(Func<Message, bool>? drop = null)
    {
        var cluster = new TestCluster(3);
        cluster.AddJoiningNode(4);
        cluster.Elect(1);
        Assert.True(cluster.ProposeConfChange(1, ConfChange.AddLearner(4)).IsAccepted);
        cluster.DeliverAll(drop);
        return cluster;
    }

    private static string Text(Entry entry) => Encoding.UTF8.GetString(entry.Data.Span);

    [Fact]
    public void A_learner_receives_and_applies_the_log_but_does_not_count_towards_commitment()
    {
        var cluster = WithLearner4();
        var x = cluster.Propose(1, "x");
        cluster.DeliverAll();
        cluster.Tick(1);
        cluster.DeliverAll();

        // The learner holds and applies the log, and knows itself as a learner.
        Assert.Equal(cluster[1].LastIndex, cluster[4].LastIndex);
        Assert.Contains(cluster.Applied[4], e => e.Index == x && Text(e) == "x");
        Assert.Equal(new ConfState([1, 2, 3], [4]), cluster[4].ConfState);

        // Cut off the learner and a voter: the two other voters are a majority of {1, 2, 3}.
        var y = cluster.Propose(1, "y");
        cluster.DeliverAll(Cut(3, 4));
        Assert.Equal(y, cluster[1].CommitIndex);

        // With voters 2 and 3 down the learner's acknowledgement does not make a majority.
        var z = cluster.Propose(1, "z");
        cluster.DeliverAll(Cut(2, 3));
        Assert.Equal(z, cluster[4].LastIndex);
        Assert.Equal(y, cluster[1].CommitIndex);

        // A voter coming back commits it.
        cluster.Tick(1);
        cluster.DeliverAll(Cut(3));
        Assert.Equal(z, cluster[1].CommitIndex);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_node_started_with_no_voters_never_campaigns_however_long_it_ticks(bool preVote)
    {
        var cluster = new TestCluster(3, preVote: preVote);
        var node = cluster.AddJoiningNode(4);

        cluster.Tick(4, 1000);

        Assert.Equal((RaftRole.Follower, 0L, RaftNode.None), (node.Role, node.Term, node.Vote));
        Assert.Equal(ConfState.Empty, node.ConfState);
        Assert.Empty(cluster.Outbox);
    }

    [Fact]
    public void A_learner_never_campaigns_even_when_the_leader_is_gone()
    {
        var cluster = WithLearner4();
        cluster.Tick(1);
        cluster.DeliverAll();
        Assert.Equal(1, cluster[4].Leader);

        // The leader fails; the learner's election timeout passes many times over.
        cluster.Tick(4, 1000);

        Assert.Equal((RaftRole.Follower, 1L), (cluster[4].Role, cluster[4].Term));
        Assert.DoesNotContain(cluster.Outbox, m => m.From == 4);
    }

    [Fact]
    public void Promoting_a_learner_that_has_not_caught_up_is_rejected_and_once_caught_up_it_is_accepted_and_counts_for_commitment()
    {
        // Node 4 is added while unreachable: it holds nothing.
        var cluster = WithLearner4(Cut(4));
        cluster.Propose(1, "a");
        cluster.DeliverAll(Cut(4));
        var committed = cluster[1].CommitIndex;

        var early = cluster.ProposeConfChange(1, ConfChange.Promote(4));

        // The reason names the learner and how far behind it is.
        Assert.Equal((ProposeStatus.ConfChangeRejected, 1L), (early.Status, early.LeaderHint));
        Assert.Contains("Learner 4 holds the log up to 0", early.Reason, StringComparison.Ordinal);
        Assert.Contains($"{committed} is committed", early.Reason, StringComparison.Ordinal);
        Assert.Equal(committed, cluster[1].LastIndex);
        Assert.Equal(new ConfState([1, 2, 3], [4]), cluster[1].ConfState);

        // Reachable again, it catches up and the promotion goes through.
        cluster.Tick(1);
        cluster.DeliverAll();
        Assert.Equal(cluster[1].LastIndex, cluster[4].LastIndex);
        var promoted = cluster.ProposeConfChange(1, ConfChange.Promote(4));
        Assert.True(promoted.IsAccepted, promoted.Reason);
        cluster.DeliverAll();
        Assert.Equal(promoted.Index, cluster[1].CommitIndex);
        Assert.All(cluster.Ids, id => Assert.Equal(new ConfState([1, 2, 3, 4]), cluster[id].ConfState));

        // Now a majority is 3 of {1, 2, 3, 4}: with voter 3 down, nodes 1 and 2 alone (a majority
        // of the old configuration) no longer commit; node 4 is needed.
        var b = cluster.Propose(1, "b");
        cluster.DeliverAll(Cut(3, 4));
        Assert.Equal(promoted.Index, cluster[1].CommitIndex);
        cluster.Tick(1);
        cluster.DeliverAll(Cut(3));
        Assert.Equal(b, cluster[1].CommitIndex);
    }

    [Fact]
    public void A_second_change_before_the_first_commits_is_refused_as_pending_and_accepted_after_it()
    {
        var cluster = new TestCluster(3);
        cluster.AddJoiningNode(4);
        cluster.AddJoiningNode(5);
        cluster.Elect(1);

        var first = cluster.ProposeConfChange(1, ConfChange.AddLearner(4));
        Assert.True(first.IsAccepted);
        var last = cluster[1].LastIndex;

        // Two uncommitted changes could give two disjoint majorities (thesis §4.1).
        var second = cluster.ProposeConfChange(1, ConfChange.AddLearner(5));
        Assert.Equal((ProposeStatus.ConfChangePending, 1L), (second.Status, second.LeaderHint));
        Assert.Contains($"index {first.Index} has not committed", second.Reason, StringComparison.Ordinal);
        Assert.Equal(last, cluster[1].LastIndex);

        cluster.DeliverAll();
        Assert.Equal(first.Index, cluster[1].CommitIndex);
        second = cluster.ProposeConfChange(1, ConfChange.AddLearner(5));
        Assert.True(second.IsAccepted, second.Reason);
        cluster.DeliverAll();
        Assert.Equal(new ConfState([1, 2, 3], [4, 5]), cluster[5].ConfState);
    }

    [Fact]
    public void A_new_leader_cannot_change_membership_before_it_commits_an_entry_of_its_own_term()
    {
        var cluster = new TestCluster(3);
        cluster.AddJoiningNode(4);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.DeliverAll();

        // Node 2 wins term 2, but its no-op reaches nobody yet.
        cluster.Elect(2, m => m.Type == MessageType.Append);
        Assert.Equal((RaftRole.Leader, 2L), (cluster[2].Role, cluster[2].Term));
        var last = cluster[2].LastIndex;

        var early = cluster.ProposeConfChange(2, ConfChange.AddLearner(4));

        // Its commit index may lag a change an earlier leader committed (thesis §4.1, the bug
        // found in the single-server algorithm).
        Assert.Equal((ProposeStatus.ConfChangePending, 2L), (early.Status, early.LeaderHint));
        Assert.Contains("own term", early.Reason, StringComparison.Ordinal);
        Assert.Equal(last, cluster[2].LastIndex);

        cluster.Tick(2);
        cluster.DeliverAll();
        Assert.Equal(last, cluster[2].CommitIndex);
        Assert.True(cluster.ProposeConfChange(2, ConfChange.AddLearner(4)).IsAccepted);
    }

    [Theory]
    [InlineData(ConfChangeType.AddLearner, 2, "Node 2 is already a voter.")]
    [InlineData(ConfChangeType.AddLearner, 4, "Node 4 is already a learner.")]
    [InlineData(ConfChangeType.RemoveNode, 9, "Node 9 is not a member.")]
    [InlineData(ConfChangeType.PromoteLearner, 2, "Node 2 is already a voter.")]
    [InlineData(ConfChangeType.PromoteLearner, 9, "Node 9 is not a learner")]
    [InlineData(ConfChangeType.AddLearner, 0, "Node id 0")]
    [InlineData(ConfChangeType.PromoteLearner, 0, "Node id 0")]
    [InlineData(ConfChangeType.RemoveNode, 0, "Node id 0")]
    [InlineData((ConfChangeType)42, 5, "Unknown membership change")]
    public void An_invalid_change_is_rejected_with_a_reason_and_changes_nothing(ConfChangeType type, long node, string reason)
    {
        var cluster = WithLearner4();
        var (last, membership) = (cluster[1].LastIndex, cluster[1].ConfState);

        var result = cluster.ProposeConfChange(1, new ConfChange(type, node));

        Assert.Equal((ProposeStatus.ConfChangeRejected, 1L), (result.Status, result.LeaderHint));
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
        Assert.Equal((last, membership), (cluster[1].LastIndex, cluster[1].ConfState));
        Assert.Empty(cluster.Outbox);
    }

    [Fact]
    public void Removing_the_last_voter_is_rejected_with_a_reason()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);

        var result = cluster.ProposeConfChange(1, ConfChange.Remove(1));

        Assert.Equal(ProposeStatus.ConfChangeRejected, result.Status);
        Assert.Contains("Node 1 is the last voter", result.Reason, StringComparison.Ordinal);
        Assert.Equal(new ConfState([1]), cluster[1].ConfState);
    }

    [Fact]
    public void A_non_leader_refuses_a_change_and_names_the_leader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        var result = cluster.ProposeConfChange(2, ConfChange.Remove(3));

        Assert.Equal((ProposeStatus.NotLeader, 1L), (result.Status, result.LeaderHint));
        Assert.Equal(new ConfState([1, 2, 3]), cluster[2].ConfState);
    }

    [Fact]
    public void A_removed_follower_stops_receiving_appends_and_the_rest_commit_with_a_majority_of_the_new_configuration()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        var removal = cluster.ProposeConfChange(1, ConfChange.Remove(3));
        Assert.True(removal.IsAccepted);

        // In force on the leader as soon as appended: node 3 is no longer sent anything.
        Assert.Equal(new ConfState([1, 2]), cluster[1].ConfState);
        Assert.Null(cluster[1].ProgressOf(3));
        cluster.DeliverAll();
        Assert.Equal(removal.Index, cluster[1].CommitIndex);
        var a = cluster.Propose(1, "a");
        cluster.Tick(1, 3);
        Assert.DoesNotContain(cluster.Outbox, m => m.To == 3);
        cluster.DeliverAll();
        Assert.Equal(a, cluster[1].CommitIndex);

        // A majority of {1, 2} is both: with node 2 down nothing commits, even though node 3
        // would still answer.
        var b = cluster.Propose(1, "b");
        cluster.DeliverAll(Cut(2));
        Assert.Equal(a, cluster[1].CommitIndex);
        cluster.Tick(1);
        cluster.DeliverAll();
        Assert.Equal(b, cluster[1].CommitIndex);
        Assert.Equal(b, cluster[2].LastIndex);
    }

    [Fact]
    public void A_leader_removing_itself_keeps_replicating_until_the_removal_commits_without_counting_its_own_log()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);

        var removal = cluster.ProposeConfChange(1, ConfChange.Remove(1));
        Assert.True(removal.IsAccepted);
        Assert.Equal(new ConfState([2, 3]), cluster[1].ConfState);

        // Node 2 acknowledges; node 1's own copy does not count, and one of {2, 3} is no majority.
        cluster.DeliverAll(Cut(3));
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.True(cluster[1].CommitIndex < removal.Index);

        // Still the leader: it accepts proposals and replicates to both voters.
        var a = cluster[1].Propose(new byte[] { 1 });
        Assert.True(a.IsAccepted);
        cluster.Drain(1);
        Assert.Contains(cluster.Outbox, m => m.Type == MessageType.Append && m.To == 2);
        Assert.Contains(cluster.Outbox, m => m.Type == MessageType.Append && m.To == 3);
        cluster.Tick(1, 20);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
    }

    /// <summary>
    /// Leader 1 removes itself (entry r), then appends a (r + 1). Node 3 receives both, node 2
    /// only r, so r commits when node 2 acknowledges it and node 3 is the most up-to-date voter.
    /// </summary>
    private static (TestCluster Cluster, long Removal) LeaderRemovalCommittedWithNode3Ahead()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var removal = cluster.ProposeConfChange(1, ConfChange.Remove(1));
        Assert.True(removal.IsAccepted);
        var toTwo = cluster.Take(m => m.To == 2);
        cluster.DeliverAll(Cut(2));
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.True(cluster[1].Propose(new byte[] { 1 }).IsAccepted);
        cluster.Drain(1);
        cluster.Take(m => m.To == 2);
        cluster.DeliverAll(Cut(2));
        Assert.Equal(removal.Index + 1, cluster[1].ProgressOf(3)!.Match);
        Assert.True(cluster[1].CommitIndex < removal.Index);

        foreach (var m in toTwo)
        {
            cluster.Deliver(m);
        }

        foreach (var m in cluster.Take(m => m.From == 2))
        {
            cluster.Deliver(m);
        }

        return (cluster, removal.Index);
    }

    [Fact]
    public void Once_its_removal_commits_the_leader_hands_over_to_the_most_up_to_date_voter_and_never_campaigns_again()
    {
        var (cluster, removal) = LeaderRemovalCommittedWithNode3Ahead();

        // Committed: node 1 sends TimeoutNow to node 3 (ahead of node 2) and steps down.
        Assert.True(cluster[1].CommitIndex >= removal);
        Assert.Equal((RaftRole.Follower, 1L, RaftNode.None), (cluster[1].Role, cluster[1].Term, cluster[1].Leader));
        var timeoutNow = Assert.Single(cluster.Take(m => m.Type == MessageType.TimeoutNow));
        Assert.Equal((1L, 3L, 1L), (timeoutNow.From, timeoutNow.To, timeoutNow.Term));

        // No longer a voter, it never starts an election.
        cluster.Take();
        cluster.Tick(1, 1000);
        Assert.Equal((RaftRole.Follower, 1L), (cluster[1].Role, cluster[1].Term));
        Assert.Empty(cluster.Outbox);
    }

    /// <summary>
    /// The target holds the removal entry (it was chosen for holding the leader's whole log), so
    /// in its configuration the sender is no longer a voter; it must still honour the TimeoutNow
    /// of the leader it follows, or the group waits a whole election timeout.
    /// </summary>
    [Fact]
    public void The_voter_a_removed_leader_hands_over_to_becomes_leader_at_once()
    {
        var (cluster, _) = LeaderRemovalCommittedWithNode3Ahead();
        var timeoutNow = Assert.Single(cluster.Take(m => m.Type == MessageType.TimeoutNow));

        cluster.Deliver(timeoutNow);

        // Node 3 campaigns at once in term 2 and wins with node 2's vote, no tick needed.
        Assert.Equal((RaftRole.Candidate, 2L), (cluster[3].Role, cluster[3].Term));
        cluster.DeliverAll(Cut(1));
        Assert.Equal((RaftRole.Leader, 2L), (cluster[3].Role, cluster[3].Term));
        Assert.Equal(new ConfState([2, 3]), cluster[3].ConfState);
    }

    [Fact]
    public void A_follower_whose_uncommitted_configuration_entry_is_overwritten_goes_back_to_the_previous_membership()
    {
        var cluster = new TestCluster(5);
        cluster.AddJoiningNode(6);
        cluster.Elect(1);
        var original = new ConfState([1, 2, 3, 4, 5]);

        // The change reaches node 2 only, and is not committed.
        var change = cluster.ProposeConfChange(1, ConfChange.AddLearner(6));
        Assert.True(change.IsAccepted);
        var toTwo = cluster.Take(m => m.To == 2 && m.Type == MessageType.Append);
        cluster.Take();
        foreach (var m in toTwo)
        {
            cluster.Deliver(m);
        }

        cluster.Take();

        // In force on node 2 as soon as it is in its log (thesis §4.1).
        Assert.Equal(new ConfState([1, 2, 3, 4, 5], [6]), cluster[2].ConfState);
        Assert.True(cluster[2].CommitIndex < change.Index);

        // Node 3, which never saw it, is elected by 3, 4 and 5; its no-op takes the entry's index.
        cluster.Elect(3, Cut(1, 2, 6));
        Assert.Equal((RaftRole.Leader, 2L), (cluster[3].Role, cluster[3].Term));
        cluster.Tick(3);
        cluster.DeliverAll(Cut(1, 6));

        Assert.Equal(2, cluster[2].Log.Term(change.Index));
        Assert.Equal(original, cluster[2].ConfState);

        // The deposed leader, which appended the change itself, undoes it too.
        cluster.Tick(3);
        cluster.DeliverAll();
        Assert.Equal(2, cluster[1].Log.Term(change.Index));
        Assert.Equal(original, cluster[1].ConfState);
        Assert.Equal(ConfState.Empty, cluster[6].ConfState);
    }

    [Fact]
    public void Leadership_cannot_be_transferred_to_a_learner_or_to_a_voter_being_removed()
    {
        var cluster = WithLearner4();

        Assert.Equal(TransferLeadershipStatus.TargetNotVoter, cluster[1].TransferLeadership(4));
        Assert.Equal(RaftNode.None, cluster[1].LeadTransferee);
        Assert.True(cluster[1].Propose(new byte[] { 1 }).IsAccepted);
        cluster.DeliverAll();

        // Once node 3's removal is appended it is no longer a voter, committed or not.
        Assert.True(cluster.ProposeConfChange(1, ConfChange.Remove(3)).IsAccepted);
        Assert.Equal(TransferLeadershipStatus.TargetNotVoter, cluster[1].TransferLeadership(3));
    }

    [Fact]
    public void A_change_is_refused_while_leadership_is_being_transferred()
    {
        var cluster = WithLearner4();
        cluster.Take();
        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(2));

        var result = cluster.ProposeConfChange(1, ConfChange.Promote(4));

        Assert.Equal((ProposeStatus.TransferInProgress, 1L), (result.Status, result.LeaderHint));
        Assert.Equal(new ConfState([1, 2, 3], [4]), cluster[1].ConfState);
    }

    [Fact]
    public void A_read_is_confirmed_by_a_majority_of_voters_and_never_by_a_learner()
    {
        var cluster = WithLearner4();
        cluster.Tick(1);
        cluster.DeliverAll();

        // Voters 2 and 3 are cut off: the learner's answer to the read's heartbeat round is not
        // enough to confirm node 1 is still the leader.
        Assert.Equal(ReadIndexStatus.Pending, cluster.Read(1, "r1"));
        cluster.DeliverAll(Cut(2, 3));
        Assert.Empty(cluster.ReadStatesOf(1));

        cluster.Tick(1);
        cluster.DeliverAll(Cut(3));
        var read = Assert.Single(cluster.ReadStatesOf(1));
        Assert.Equal(("r1", cluster[1].CommitIndex), (Encoding.UTF8.GetString(read.RequestContext.Span), read.Index));
    }

    [Fact]
    public void A_learner_serves_a_linearizable_read_through_the_leader()
    {
        var cluster = WithLearner4();
        cluster.Tick(1);
        cluster.DeliverAll();

        Assert.Equal(ReadIndexStatus.Forwarded, cluster.Read(4, "from-learner"));
        cluster.DeliverAll();

        var read = Assert.Single(cluster.ReadStatesOf(4));
        Assert.Equal(("from-learner", cluster[1].CommitIndex), (Encoding.UTF8.GetString(read.RequestContext.Span), read.Index));
    }
}
