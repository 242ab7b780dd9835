using Streams.Raft.Membership;
using Streams.Raft.Core;
using Streams.Raft.Log;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Core;

/// <summary>Always-on invariant checks stop the node instead of letting it continue wrong.</summary>
public sealed class InvariantTests
{
    [Fact]
    public void A_commit_index_beyond_the_last_index_stops_the_node()
    {
        var follower = new RaftNode(new RaftConfig { Id = 2, Voters = [1, 2], RandomSource = new FixedRandomSource() }, Logs.WithTerms(1, 1, 1));

        Assert.Throws<RaftInvariantException>(() =>
            follower.Step(new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 1, Commit = 10 }));
    }

    [Fact]
    public void A_persisted_commit_beyond_the_persisted_log_refuses_to_start()
    {
        var storage = Logs.WithTerms(1, 1);
        storage.SetHardState(new HardState(1, 0, 5));

        Assert.Throws<RaftInvariantException>(() =>
            new RaftNode(new RaftConfig { Id = 1, Voters = [1], RandomSource = new FixedRandomSource() }, storage));
    }

    [Fact]
    public void Committed_entries_are_never_overwritten()
    {
        var log = new RaftLog(Logs.WithTerms(1, 1, 1, 1), committed: 2, applied: 0, bootstrap: new ConfState([1]));

        Assert.Throws<RaftInvariantException>(() => log.Append([TestCluster.E(2, 2)]));
        log.Append([TestCluster.E(2, 3)]);
        Assert.Equal(2, log.Term(3));
    }

    [Fact]
    public void The_commit_index_never_regresses()
    {
        var log = new RaftLog(Logs.WithTerms(1, 1, 1, 1), committed: 2, applied: 0, bootstrap: new ConfState([1]));

        log.CommitTo(1);

        Assert.Equal(2, log.Committed);
    }

    [Fact]
    public void An_invalid_configuration_names_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new RaftConfig
        {
            Id = 0,
            Voters = [2, 2],
            ElectionTimeoutTicks = 1,
            RandomSource = new FixedRandomSource(),
        }.Validate());

        Assert.Contains("Id must not be 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("distinct", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ElectionTimeoutTicks", ex.Message, StringComparison.Ordinal);
    }
}
