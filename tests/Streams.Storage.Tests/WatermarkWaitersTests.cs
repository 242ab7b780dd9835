using Streams.Storage.Segments.Waiting;

namespace Streams.Storage.Tests.Segments;

public sealed class WatermarkWaitersTests
{
    // A waiter that read the old watermark while the owner published the new one and advanced
    // must still wake: the race lost about 1 wake-up in 1,000 rounds when Advance skipped the
    // lock with no waiter listed (a shard's Raft loop then hung in SaveAsync).
    [Fact]
    public async Task A_waiter_registering_while_the_watermark_advances_is_never_forgotten()
    {
        long watermark = 0;
        var waiters = new WatermarkWaiters(() => Volatile.Read(ref watermark));
        const int Rounds = 20_000;
        for (var round = 1; round <= Rounds; round++)
        {
            var target = round;
            using var start = new Barrier(2);
            var waiting = Task.Run(async () =>
            {
                start.SignalAndWait();
                await waiters.WaitAsync(target, CancellationToken.None);
            });
            var advancing = Task.Run(() =>
            {
                start.SignalAndWait();
                Volatile.Write(ref watermark, target);
                waiters.Advance(target);
            });
            await advancing;
            var finished = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(finished == waiting, $"round {round}: the waiter for {target} was never woken although the watermark is {Volatile.Read(ref watermark)}");
        }
    }
}
