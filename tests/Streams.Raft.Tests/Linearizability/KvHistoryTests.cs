namespace Streams.Raft.Tests.Linearizability;

/// <summary>The recorder the simulator feeds: ids, completion, failure and misuse.</summary>
public sealed class KvHistoryTests
{
    [Fact]
    public void Recorded_operations_come_back_in_invocation_order_with_their_outcomes()
    {
        var history = new KvHistory();
        var put = history.InvokePut(1, "x", "a", 10);
        var get = history.InvokeGet(2, "x", 11);
        var lost = history.InvokePut(3, "x", "b", 12);
        history.CompletePut(put, 13);
        history.CompleteGet(get, "a", 14);

        Assert.Equal(
            [
                new KvOperation(1, put, KvOperationKind.Put, "x", "a", 10, 13),
                new KvOperation(2, get, KvOperationKind.Get, "x", "a", 11, 14),
                new KvOperation(3, lost, KvOperationKind.Put, "x", "b", 12, null),
            ],
            history.Operations);
        Assert.True(history.Check().IsLinearizable);
    }

    [Fact]
    public void A_failed_operation_is_removed()
    {
        var history = new KvHistory();
        var put = history.InvokePut(1, "x", "a", 0);
        history.Fail(put);
        var get = history.InvokeGet(2, "x", 5);
        history.CompleteGet(get, "a", 6);

        Assert.Equal([get], history.Operations.Select(o => o.OpId));
        Assert.Equal(LinearizabilityOutcome.NotLinearizable, history.Check().Outcome);
    }

    [Fact]
    public void Misuse_is_rejected()
    {
        var history = new KvHistory();
        var put = history.InvokePut(1, "x", "a", 10);
        var get = history.InvokeGet(1, "x", 10);

        Assert.Throws<InvalidOperationException>(() => history.CompleteGet(put, "a", 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => history.CompletePut(put, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => history.CompletePut(99, 11));
        history.CompletePut(put, 11);
        Assert.Throws<InvalidOperationException>(() => history.CompletePut(put, 12));
        Assert.Throws<InvalidOperationException>(() => history.Fail(put));
        history.Fail(get);
        Assert.Throws<InvalidOperationException>(() => history.CompleteGet(get, null, 12));
    }
}
