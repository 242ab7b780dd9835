using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Paper;

/// <summary>§5.3 (log replication) of the Raft paper, with etcd's fast backtracking.</summary>
public sealed class ReplicationTests
{
    [Fact]
    public void A_leader_commits_an_entry_once_a_majority_stores_it_and_followers_learn_the_commit_index()
    {
        // §5.3: "A log entry is committed once the leader that created the entry has replicated it
        // on a majority of the servers." Node 3 is unreachable.
        var cluster = new TestCluster(3);
        Func<Message, bool> cut3 = m => m.To == 3 || m.From == 3;
        cluster.Elect(1, cut3);
        var index = cluster.Propose(1, "x");
        cluster.DeliverAll(cut3);

        Assert.Equal(index, cluster[1].CommitIndex);
        Assert.Equal("x", System.Text.Encoding.UTF8.GetString(cluster.Applied[1][^1].Data.Span));
        Assert.Equal(0, cluster[3].LastIndex);

        // "The leader ... includes that index in future AppendEntries RPCs (including heartbeats)
        // so that the other servers eventually find out."
        cluster.Tick(1);
        cluster.DeliverAll(cut3);
        Assert.Equal(index, cluster[2].CommitIndex);
        Assert.Equal(index, cluster.Applied[2][^1].Index);
    }

    [Fact]
    public void A_follower_rejects_AppendEntries_when_its_log_lacks_a_matching_entry_at_prevLogIndex()
    {
        // §5.3: "If the follower does not find an entry in its log with the same index and term,
        // then it refuses the new entries." The follower's log is 1@1 2@1 3@2.
        var follower = new RaftNode(new RaftConfig { Id = 2, Voters = [1, 2], RandomSource = new FixedRandomSource() }, Logs.WithTerms(3, 1, 1, 2));
        var before = Logs.Of(follower);

        follower.Step(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, Index = 3, LogTerm = 3, Entries = [TestCluster.E(3, 4)] });
        follower.Step(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, Index = 5, LogTerm = 3, Entries = [TestCluster.E(3, 6)] });

        Assert.Equal(before, Logs.Of(follower));
        var answers = follower.GetReady().Messages;
        Assert.All(answers, m => Assert.True(m.Reject));

        // Fast backtracking hint: the last index at or below prevLogIndex whose term is at most
        // prevLogTerm (3@2), so the leader can skip a whole term per round trip.
        Assert.Equal([(3L, 3L, 2L), (5L, 3L, 2L)], answers.Select(m => (m.Index, m.RejectHint, m.LogTerm)));
    }

    [Fact]
    public void A_follower_deletes_a_conflicting_entry_and_all_that_follow_it_then_appends()
    {
        // §5.3: "If an existing entry conflicts with a new one (same index but different terms),
        // delete the existing entry and all that follow it."
        var follower = new RaftNode(new RaftConfig { Id = 2, Voters = [1, 2], RandomSource = new FixedRandomSource() }, Logs.WithTerms(3, 1, 1, 2, 2));

        follower.Step(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, Index = 2, LogTerm = 1, Entries = [TestCluster.E(3, 3, "n3")] });

        Assert.Equal([(1L, 1L, "e1t1"), (2L, 1L, "e2t1"), (3L, 3L, "n3")], Logs.Of(follower));
        var ready = follower.GetReady();
        Assert.Equal(3, Assert.Single(ready.Entries).Index);
        Assert.Equal((false, 3L), (ready.Messages[0].Reject, ready.Messages[0].Index));
    }

    [Fact]
    public void A_stale_or_duplicated_AppendEntries_never_truncates_a_follower_log()
    {
        // Only a conflict deletes entries: an old Append whose entries are already held must not
        // cut the entries after them (messages are reordered and duplicated).
        var follower = new RaftNode(new RaftConfig { Id = 2, Voters = [1, 2], RandomSource = new FixedRandomSource() }, Logs.WithTerms(1, 1, 1, 1));

        follower.Step(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 1, Index = 1, LogTerm = 1, Entries = [TestCluster.E(1, 2, "e2t1")] });

        Assert.Equal(3, follower.LastIndex);
        var ready = follower.GetReady();
        Assert.Empty(ready.Entries);
        Assert.Equal(2, ready.Messages[0].Index);
    }

    [Fact]
    public void A_leader_never_overwrites_its_own_log_and_forces_followers_to_duplicate_it()
    {
        // §5.3: "a leader never overwrites or deletes entries in its own log" (Leader Append-Only),
        // and "the leader handles inconsistencies by forcing the followers' logs to duplicate its own".
        var storages = new[] { Logs.WithTerms(3, 1, 1, 1, 3, 3), Logs.WithTerms(2, 1, 1, 1, 2, 2, 2, 2), Logs.WithTerms(1, 1) };
        var nodes = new TestClusterFromStorages(storages);
        var leaderBefore = Logs.Of(nodes[1]);

        nodes.Elect(1);

        Assert.Equal(RaftRole.Leader, nodes[1].Role);
        var leaderAfter = Logs.Of(nodes[1]);
        Assert.Equal(leaderBefore, leaderAfter.Take(leaderBefore.Count));
        Assert.Equal(leaderAfter, Logs.Of(nodes[2]));
        Assert.Equal(leaderAfter, Logs.Of(nodes[3]));
    }

    [Fact]
    public void Fast_backtracking_skips_a_whole_conflicting_term_per_round_trip()
    {
        // Follower 2 holds 60 entries of term 2 that the leader (log 1 1 1 3) never had. Without
        // hints the leader would need about 60 rejections; with them it needs one.
        var storages = new[] { Logs.WithTerms(3, 1, 1, 1, 3), Logs.WithTerms(2, [1, 1, 1, .. Enumerable.Repeat(2L, 60)]), Logs.WithTerms(3, 1, 1, 1, 3) };
        var nodes = new TestClusterFromStorages(storages);
        var rejections = 0;

        nodes.Elect(1, drop: m =>
        {
            rejections += m is { Type: MessageType.AppendResponse, From: 2, Reject: true } ? 1 : 0;
            return false;
        });

        Assert.Equal(1, rejections);
        Assert.Equal(Logs.Of(nodes[1]), Logs.Of(nodes[2]));
    }
}
