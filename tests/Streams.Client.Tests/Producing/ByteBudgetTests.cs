using Streams.Client.Producing;

namespace Streams.Client.Tests.Producing;

public sealed class ByteBudgetTests
{
    [Fact]
    public async Task Waiters_get_room_first_come_first_served()
    {
        var budget = new ByteBudget(100);
        Assert.True(budget.TryReserve(90));
        var big = budget.ReserveAsync(50, CancellationToken.None);
        var small = budget.ReserveAsync(5, CancellationToken.None);

        // The small one would fit, but waits behind the big one; so does a newcomer.
        Assert.False(budget.TryReserve(5));
        Assert.False(big.IsCompleted);
        Assert.False(small.IsCompleted);

        budget.Release(90);
        await big;
        await small;
        Assert.Equal(55, budget.Used);
    }

    [Fact]
    public async Task A_cancelled_wait_reserves_nothing_and_lets_the_next_in()
    {
        var budget = new ByteBudget(100);
        Assert.True(budget.TryReserve(80));
        using var cancel = new CancellationTokenSource();
        var big = budget.ReserveAsync(50, cancel.Token);
        var small = budget.ReserveAsync(10, CancellationToken.None);
        Assert.False(small.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big);
        await small;
        Assert.Equal(90, budget.Used);
    }

    [Fact]
    public async Task Closing_fails_the_waiters_and_later_reservations()
    {
        var budget = new ByteBudget(10);
        Assert.True(budget.TryReserve(10));
        var waiting = budget.ReserveAsync(5, CancellationToken.None);
        budget.Close(new ObjectDisposedException("producer"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => budget.ReserveAsync(1, CancellationToken.None));
        Assert.False(budget.TryReserve(0));
    }
}
