using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>Durability policies: group commit under Always, a timer under Interval, the OS under Never.</summary>
public sealed class SegmentDurabilityTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Always_makes_appends_durable_without_the_appender_waiting()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Always));
        for (var i = 1; i <= 10; i++)
        {
            var result = log.Append(SegmentTestBatches.Create(i));
            Assert.Equal(i, result.Index);
        }

        await log.WaitForDurableAsync(10).AsTask().WaitAsync(_timeout);
        Assert.Equal(10, log.DurableIndex);
        Assert.InRange(log.FsyncCount, 1, 10);
        Assert.True(log.WaitForDurableAsync(10).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Always_covers_every_batch_appended_during_an_fsync_with_the_next_one()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Always));
        const int appends = 2000;
        for (var i = 1; i <= appends; i++)
        {
            log.Append(SegmentTestBatches.Create(i, payloadBytes: 64));
        }

        await log.WaitForDurableAsync(appends).AsTask().WaitAsync(_timeout);
        Assert.Equal(appends, log.DurableIndex);

        // An append takes microseconds, an fsync far longer: fsyncs are shared by many appends.
        Assert.True(log.FsyncCount <= appends / 4, $"{log.FsyncCount} fsyncs for {appends} appends: no group commit.");
    }

    [Fact]
    public async Task Always_with_many_concurrent_appenders_and_waiters_shares_fsyncs_and_wakes_every_waiter()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Always, segmentSizeBytes: 256 * 1024));
        const int appenders = 16;
        const int rounds = 60;
        var gate = new Lock();
        var durableSeen = new long[appenders];

        var tasks = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
        {
            for (var round = 0; round < rounds; round++)
            {
                long index;
                lock (gate)
                {
                    index = log.LastIndex + 1;
                    log.Append(SegmentTestBatches.Create(index, payloadBytes: 200 + a));
                }

                await log.WaitForDurableAsync(index);
                Assert.True(log.DurableIndex >= index, $"Waiter for {index} woke with DurableIndex {log.DurableIndex}.");
                durableSeen[a] = index;
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(_timeout);

        const int total = appenders * rounds;
        Assert.Equal(total, log.LastIndex);
        Assert.Equal(total, log.DurableIndex);
        Assert.All(durableSeen, index => Assert.True(index > 0));
        Assert.True(log.FsyncCount * 2 <= total, $"{log.FsyncCount} fsyncs for {total} appends from {appenders} concurrent appenders: no group commit.");
    }

    [Fact]
    public async Task Interval_flushes_on_the_clock_tick()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Interval), clock);
        Assert.Equal(1, clock.TimerCount);
        for (var i = 1; i <= 5; i++)
        {
            Assert.False(log.Append(SegmentTestBatches.Create(i)).IsDurable);
        }

        var durable = log.WaitForDurableAsync(5).AsTask();
        await Task.Delay(100);
        Assert.False(durable.IsCompleted);
        Assert.Equal(0, log.DurableIndex);
        Assert.Equal(0, log.FsyncCount);

        clock.Advance(TimeSpan.FromMilliseconds(50));
        await durable.WaitAsync(_timeout);
        Assert.Equal(5, log.DurableIndex);
        Assert.Equal(1, log.FsyncCount);

        // Nothing new: a tick does not fsync again.
        clock.Advance(TimeSpan.FromMilliseconds(50));
        log.Append(SegmentTestBatches.Create(6));
        clock.Advance(TimeSpan.FromMilliseconds(50));
        await log.WaitForDurableAsync(6).AsTask().WaitAsync(_timeout);
        Assert.InRange(log.FsyncCount, 2, 3);
    }

    [Fact]
    public async Task Interval_makes_a_rolled_segment_durable_when_it_rolls()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Interval, segmentSizeBytes: 4096), new SegmentTestClock());
        var index = 0L;
        while (log.Segments.Count < 3)
        {
            log.Append(SegmentTestBatches.Create(++index, payloadBytes: 500));
        }

        Assert.Equal(log.Segments[1].LastIndex, log.DurableIndex);
        Assert.True(log.DurableIndex < log.LastIndex);
    }

    [Fact]
    public async Task A_durability_wait_can_be_cancelled_and_dispose_completes_the_rest()
    {
        using var directory = new SegmentTestDirectory();
        var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Interval), new SegmentTestClock());
        log.Append(SegmentTestBatches.Create(1));
        using var cancel = new CancellationTokenSource();
        var cancelled = log.WaitForDurableAsync(1, cancel.Token).AsTask();
        var flushedByDispose = log.WaitForDurableAsync(1).AsTask();
        var never = log.WaitForDurableAsync(2).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(_timeout));

        await log.DisposeAsync();
        await flushedByDispose.WaitAsync(_timeout);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => never.WaitAsync(_timeout));
        Assert.Throws<ObjectDisposedException>(() => log.Append(SegmentTestBatches.Create(2)));
    }

    [Fact]
    public async Task Never_leaves_durability_to_the_OS_and_says_so()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Never));
        var waitForNext = log.WaitForDurableAsync(3).AsTask();
        for (var i = 1; i <= 3; i++)
        {
            Assert.True(log.Append(SegmentTestBatches.Create(i)).IsDurable);
            Assert.Equal(i, log.DurableIndex);
        }

        await waitForNext.WaitAsync(_timeout);
        Assert.True(log.WaitForDurableAsync(3).AsTask().IsCompletedSuccessfully);
        Assert.Equal(0, log.FsyncCount);
    }

    [Theory]
    [InlineData(DurabilityPolicy.Interval)]
    [InlineData(DurabilityPolicy.Never)]
    public async Task FlushAsync_forces_what_was_appended_to_disk_under_any_policy(DurabilityPolicy durability)
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, durability), new SegmentTestClock());
        log.Append(SegmentTestBatches.Create(1));
        log.Append(SegmentTestBatches.Create(2));

        await log.FlushAsync();
        Assert.Equal(1, log.FsyncCount);
        Assert.Equal(2, log.DurableIndex);

        // Nothing new: no second fsync.
        await log.FlushAsync();
        Assert.Equal(1, log.FsyncCount);
    }

    [Fact]
    public async Task A_reopened_log_is_durable_up_to_its_last_batch()
    {
        using var directory = new SegmentTestDirectory();
        await using (var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Interval), new SegmentTestClock()))
        {
            for (var i = 1; i <= 4; i++)
            {
                log.Append(SegmentTestBatches.Create(i));
            }
        }

        await using var reopened = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Interval), new SegmentTestClock());
        Assert.Equal(4, reopened.DurableIndex);
    }

    private static SegmentLogOptions Options(SegmentTestDirectory directory, DurabilityPolicy durability, long segmentSizeBytes = 1024 * 1024) => new()
    {
        Directory = directory.Path,
        Durability = durability,
        SegmentSizeBytes = segmentSizeBytes,
        FlushInterval = TimeSpan.FromMilliseconds(50),
    };
}
