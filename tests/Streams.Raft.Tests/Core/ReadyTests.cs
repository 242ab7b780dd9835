using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>The Ready contract: persist, then send, then apply, then Advance.</summary>
public sealed class ReadyTests
{
    private static RaftNode Node(long id = 2) => new(new RaftConfig { Id = id, Voters = [1, 2, 3], RandomSource = new FixedRandomSource() }, new MemoryRaftLog());

    [Fact]
    public void A_granted_vote_comes_in_the_same_Ready_as_the_hard_state_that_records_it()
    {
        var node = Node();
        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });

        var ready = node.GetReady();

        Assert.Equal(new HardState(1, 1, 0), ready.HardState);
        Assert.False(Assert.Single(ready.Messages).Reject);
    }

    [Fact]
    public void The_hard_state_is_null_when_unchanged_and_nothing_is_ready_after_Advance()
    {
        var node = Node();
        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });
        node.Advance(node.GetReady());
        Assert.False(node.HasReady);

        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });
        var ready = node.GetReady();

        Assert.Null(ready.HardState);
        Assert.Single(ready.Messages);
    }

    [Fact]
    public void A_second_GetReady_before_Advance_is_refused()
    {
        var node = Node();
        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });
        node.GetReady();

        Assert.False(node.HasReady);
        Assert.Throws<InvalidOperationException>(() => node.GetReady());
    }

    [Fact]
    public void A_proposal_to_a_follower_says_not_leader_and_names_the_leader()
    {
        var cluster = new TestCluster(3);
        Assert.Equal(ProposeResult.NotLeader(0), cluster[2].Propose(new byte[] { 1 }));
        cluster.Elect(1);

        Assert.Equal(ProposeResult.NotLeader(1), cluster[2].Propose(new byte[] { 1 }));
        var accepted = cluster[1].Propose(new byte[] { 1 });
        Assert.Equal(ProposeResult.Accepted(2, 1), accepted);
    }

    [Fact]
    public void A_single_node_cluster_elects_itself_and_commits_its_own_proposals()
    {
        var storage = new MemoryRaftLog();
        var node = new RaftNode(new RaftConfig { Id = 1, Voters = [1], RandomSource = new FixedRandomSource(), PreVote = true }, storage);
        for (var i = 0; i < 10; i++)
        {
            node.Tick();
        }

        Assert.Equal(RaftRole.Leader, node.Role);
        node.Propose(new byte[] { 7 });
        var ready = node.GetReady();

        Assert.Equal([1L, 2L], ready.Entries.Select(e => e.Index));
        Assert.Equal([1L, 2L], ready.CommittedEntries.Select(e => e.Index));
        storage.Append(ready.Entries);
        node.Advance(ready);
        Assert.Equal(2, node.AppliedIndex);
    }
}
