using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Simulation;

/// <summary>The checker itself, fed fabricated violations: each must be caught.</summary>
public sealed class SafetyCheckerTests
{
    [Fact]
    public void Two_leaders_in_one_term_are_caught()
    {
        var checker = new SafetyChecker();
        checker.OnRole(1, 3, isLeader: true);
        checker.OnRole(2, 4, isLeader: true);

        var ex = Assert.Throws<SafetyViolationException>(() => checker.OnRole(3, 3, isLeader: true));
        Assert.Contains("election safety", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_logs_that_agree_at_an_index_but_not_before_it_are_caught()
    {
        var checker = new SafetyChecker();
        checker.OnPersisted(1, [TestCluster.E(1, 1, "a"), TestCluster.E(2, 2, "b")]);

        var ex = Assert.Throws<SafetyViolationException>(() =>
            checker.OnPersisted(2, [TestCluster.E(1, 1, "x"), TestCluster.E(2, 2, "b")]));
        Assert.Contains("log matching", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Different_entries_applied_at_one_index_are_caught()
    {
        var checker = new SafetyChecker();
        checker.OnApply(1, TestCluster.E(1, 1, "a"));

        var ex = Assert.Throws<SafetyViolationException>(() => checker.OnApply(2, TestCluster.E(1, 1, "b")));
        Assert.Contains("state machine safety", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_later_leader_missing_a_committed_entry_is_caught()
    {
        var checker = new SafetyChecker();
        checker.OnPersisted(1, [TestCluster.E(1, 1, "a"), TestCluster.E(2, 2, "b")]);
        checker.OnCommit(1, 2, 2);
        checker.OnPersisted(2, [TestCluster.E(1, 1, "a")]);

        var ex = Assert.Throws<SafetyViolationException>(() => checker.OnRole(2, 3, isLeader: true));
        Assert.Contains("leader completeness", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stale_leader_of_an_earlier_term_is_not_required_to_hold_later_commits()
    {
        var checker = new SafetyChecker();
        checker.OnPersisted(1, [TestCluster.E(1, 1, "a"), TestCluster.E(3, 2, "b")]);
        checker.OnCommit(1, 3, 2);
        checker.OnPersisted(2, [TestCluster.E(1, 1, "a")]);
        checker.OnCommit(2, 1, 1);

        checker.OnRole(2, 2, isLeader: true);
    }
}
