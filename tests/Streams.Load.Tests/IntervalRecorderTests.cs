using Streams.Load.Measuring;

namespace Streams.Load.Tests;

/// <summary>The concurrent recorder: intervals taken while workers record lose and repeat nothing.</summary>
public sealed class IntervalRecorderTests
{
    private static readonly double[] _percentiles = [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100];

    [Fact]
    public async Task Intervals_taken_every_few_ms_while_many_tasks_record_hold_every_value_exactly_once() =>
        await AssertNothingLostOrRepeatedAsync(new IntervalRecorder(stripes: 4), intervalsWhileRecording: 40, pauseEveryInterval: true);

    [Fact]
    public async Task Intervals_taken_back_to_back_while_many_tasks_record_hold_every_value_exactly_once() =>
        // Small histograms (2 digits) make a take cheap, so thousands of swaps race with records.
        await AssertNothingLostOrRepeatedAsync(
            new IntervalRecorder(lowestNanos: 1_000, highestNanos: 100_000_000_000, significantDigits: 2, stripes: 4),
            intervalsWhileRecording: 3_000,
            pauseEveryInterval: false);

    [Fact]
    public void An_interval_holds_only_what_was_recorded_since_the_last_one()
    {
        var recorder = new IntervalRecorder();
        recorder.Record(1_000);
        recorder.Record(2_000);
        recorder.Record(3_000);

        var first = recorder.TakeInterval();
        Assert.Equal(3, first.Count);
        Assert.Equal(1_000, first.Min);
        Assert.Equal(3_000, first.Max);

        recorder.Record(5_000);
        recorder.Record(6_000);
        var second = recorder.TakeInterval();
        Assert.Equal(2, second.Count);
        Assert.Equal(5_000, second.Min);
        Assert.Equal(6_000, second.Max);

        var third = recorder.TakeInterval();
        Assert.Equal(0, third.Count);

        var total = recorder.Total;
        Assert.Equal(5, total.Count);
        Assert.Equal(1_000, total.Min);
        Assert.Equal(6_000, total.Max);
        Assert.Equal(3_400, total.Mean);
    }

    [Fact]
    public void The_total_holds_only_taken_intervals_and_can_be_reset()
    {
        var recorder = new IntervalRecorder();
        recorder.Record(1_000);
        Assert.Equal(0, recorder.Total.Count);

        recorder.TakeInterval();
        Assert.Equal(1, recorder.Total.Count);

        recorder.Record(2_000);
        recorder.ResetTotal();
        Assert.Equal(0, recorder.Total.Count);

        // The reset forgot the total, not the values waiting for the next interval.
        var next = recorder.TakeInterval();
        Assert.Equal(1, next.Count);
        Assert.Equal(2_000, recorder.Total.Max);
        Assert.Equal(1, recorder.Total.Count);
    }

    [Fact]
    public void Taking_into_a_reused_histogram_clears_it_first()
    {
        var recorder = new IntervalRecorder(lowestNanos: 1, highestNanos: 1_000_000, significantDigits: 2);
        var reused = new LatencyHistogram(1, 1_000_000, 2);
        reused.Record(999);

        recorder.Record(10);
        recorder.TakeInterval(reused);
        Assert.Equal(1, reused.Count);
        Assert.Equal(10, reused.Max);

        recorder.TakeInterval(reused);
        Assert.Equal(0, reused.Count);
    }

    [Fact]
    public void Taking_into_a_histogram_with_other_settings_is_rejected_and_loses_nothing()
    {
        var recorder = new IntervalRecorder();
        recorder.Record(7_000);

        Assert.Throws<ArgumentException>(() => recorder.TakeInterval(new LatencyHistogram(significantDigits: 2)));

        var interval = recorder.TakeInterval();
        Assert.Equal(1, interval.Count);
        Assert.Equal(7_000, interval.Max);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_025)]
    public void A_stripe_count_out_of_range_is_rejected(int stripes)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalRecorder(stripes: stripes));
        Assert.Equal("stripes", error.ParamName);
    }

    [Fact]
    public void Stripes_are_rounded_up_to_a_power_of_two_and_default_to_the_processors()
    {
        Assert.Equal(8, new IntervalRecorder(stripes: 5).Stripes);
        Assert.Equal(1, new IntervalRecorder(stripes: 1).Stripes);
        Assert.True(new IntervalRecorder().Stripes >= Environment.ProcessorCount);
    }

    [Fact]
    public void Invalid_histogram_settings_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalRecorder(significantDigits: 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalRecorder(lowestNanos: 0));
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var recorder = new IntervalRecorder();
        for (var i = 0; i < 10_000; i++)
        {
            recorder.Record(i * 1_013L);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000_000; i++)
        {
            recorder.Record(i * 7_919L);
        }

        var after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
        Assert.Equal(1_010_000, recorder.TakeInterval().Count);
    }

    // Workers record into the recorder (and, for comparison, each into a histogram of its own,
    // exact since single-threaded) until a taker thread has taken enough intervals while they
    // ran; then the intervals must add up to exactly what the workers recorded.
    private static async Task AssertNothingLostOrRepeatedAsync(IntervalRecorder recorder, int intervalsWhileRecording, bool pauseEveryInterval)
    {
        const int Workers = 8;
        var total = recorder.Total;
        var merged = total.Copy();
        long intervalCounts = 0;
        var nonEmpty = 0;
        var taken = 0;
        var done = false;
        var taker = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                var interval = recorder.TakeInterval();
                merged.Add(interval);
                intervalCounts += interval.Count;
                nonEmpty += interval.Count > 0 ? 1 : 0;
                Volatile.Write(ref taken, taken + 1);
                if (pauseEveryInterval || taken % 64 == 0)
                {
                    Thread.Sleep(pauseEveryInterval ? 2 : 0);
                }
            }
        });
        taker.Start();

        var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(() =>
        {
            var mine = total.Copy();
            long n = 0;
            while (Volatile.Read(ref taken) < intervalsWhileRecording || n < 10_000)
            {
                var value = ValueOf(worker, n++);
                recorder.Record(value);
                mine.Record(value);
                if (n % 1_000 == 0)
                {
                    // Let other workers (and the taker) onto the cores of a busy machine.
                    Thread.Yield();
                }
            }

            return mine;
        })).ToArray();

        var expected = LatencyHistogram.Merge(await Task.WhenAll(workers));
        Volatile.Write(ref done, true);
        taker.Join();
        var last = recorder.TakeInterval();
        merged.Add(last);
        intervalCounts += last.Count;

        Assert.True(nonEmpty >= 2, $"only {nonEmpty} non-empty intervals: nothing raced");
        Assert.Equal(expected.Count, intervalCounts);
        AssertSameValues(expected, merged);
        AssertSameValues(expected, recorder.Total);
    }

    // Spread over 1 µs .. ~10 s, different per worker, with repeats.
    private static long ValueOf(int worker, long n) => 1_000 + ((n * 7_919 + worker * 104_729) % 10_000 * 1_000_003);

    private static void AssertSameValues(LatencyHistogram expected, LatencyHistogram actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Min, actual.Min);
        Assert.Equal(expected.Max, actual.Max);
        Assert.Equal(expected.Clamped, actual.Clamped);
        // The sum is exact, so the order of records and merges does not show in the mean.
        Assert.Equal(expected.Mean, actual.Mean);
        for (var k = 0; k < 10_000; k++)
        {
            var value = 1_000 + (k * 1_000_003L);
            Assert.Equal(expected.CountAtValue(value), actual.CountAtValue(value));
        }

        foreach (var percentile in _percentiles)
        {
            Assert.Equal(expected.ValueAtPercentile(percentile), actual.ValueAtPercentile(percentile));
        }
    }
}
