using FsCheck;
using FsCheck.Fluent;
using Streams.Load.Measuring;

namespace Streams.Load.Tests;

/// <summary>The log-linear histogram: precision against exact percentiles, merging, edges.</summary>
public sealed class LatencyHistogramTests
{
    private const long Lowest = LatencyHistogram.DefaultLowestNanos;
    private const long Highest = LatencyHistogram.DefaultHighestNanos;

    private static readonly double[] _fixedPercentiles = [0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

    // Values spread over every power of two of the default range (log-uniform-ish), with some
    // clustered near the bottom so that duplicates and shared buckets are common too.
    private static readonly Gen<long> _inRange = Gen.Frequency(
        (6, from bits in Gen.Choose(10, 42)
            from high in Gen.Choose(0, int.MaxValue)
            from low in Gen.Choose(0, int.MaxValue)
            select Math.Clamp((((long)high << 31) | (uint)low) >> (62 - bits), Lowest, Highest)),
        (2, Gen.Choose(1_000, 3_000).Select(v => (long)v)),
        (1, Gen.Elements(Lowest, Highest, 2_047L, 2_048L, 2_049L, 4_095L, 4_096L)));

    private static readonly Gen<long[]> _valueSets = Gen.NonEmptyListOf(_inRange).Select(values => values.ToArray());

    private static readonly Gen<double[]> _randomPercentiles =
        Gen.ListOf(Gen.Choose(0, 100_000).Select(thousandths => thousandths / 1000.0)).Select(p => p.ToArray());

    [Fact]
    public void Every_percentile_is_at_or_within_a_thousandth_above_the_exact_nearest_rank() =>
        Prop.ForAll(
            _valueSets.ToArbitrary(),
            _randomPercentiles.ToArbitrary(),
            (values, randomPercentiles) =>
            {
                var histogram = Recorded(values);
                var sorted = values.Order().ToArray();
                foreach (var percentile in _fixedPercentiles.Concat(randomPercentiles))
                {
                    var exact = NearestRank(sorted, percentile);
                    var answer = histogram.ValueAtPercentile(percentile);
                    Assert.True(answer >= exact, $"p{percentile}: {answer} is below the exact {exact}");
                    Assert.True((answer - exact) * 1000m <= exact, $"p{percentile}: {answer} is more than 0.1 % above the exact {exact}");
                }
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Percentiles_never_decrease_as_the_percentile_grows() =>
        Prop.ForAll(
            _valueSets.ToArbitrary(),
            _randomPercentiles.ToArbitrary(),
            (values, randomPercentiles) =>
            {
                var histogram = Recorded(values);
                var answers = _fixedPercentiles.Concat(randomPercentiles).Order().Select(histogram.ValueAtPercentile).ToArray();
                Assert.Equal(answers.Order(), answers);
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Count_min_and_max_are_exact_and_the_mean_is_close() =>
        Prop.ForAll(
            _valueSets.ToArbitrary(),
            values =>
            {
                var histogram = Recorded(values);
                Assert.Equal(values.Length, histogram.Count);
                Assert.Equal(values.Min(), histogram.Min);
                Assert.Equal(values.Max(), histogram.Max);
                var exactMean = (double)values.Select(v => (decimal)v).Average();
                Assert.True(Math.Abs(histogram.Mean - exactMean) <= exactMean * 1e-15, $"mean {histogram.Mean} vs exact {exactMean}");
                Assert.Equal(0, histogram.Clamped);
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Adding_one_histogram_to_another_equals_recording_every_value_into_one() =>
        Prop.ForAll(
            _valueSets.ToArbitrary(),
            _valueSets.ToArbitrary(),
            (first, second) =>
            {
                var all = Recorded([.. first, .. second]);

                var added = Recorded(first);
                added.Add(Recorded(second));
                AssertSameValues(all, added, first.Concat(second));

                var merged = LatencyHistogram.Merge([Recorded(first), Recorded(second)]);
                AssertSameValues(all, merged, first.Concat(second));
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_copy_is_independent_of_its_original() =>
        Prop.ForAll(
            _valueSets.ToArbitrary(),
            _valueSets.ToArbitrary(),
            (values, more) =>
            {
                var original = Recorded(values);
                var copy = original.Copy();
                AssertSameValues(original, copy, values);

                foreach (var value in more)
                {
                    original.Record(value);
                }

                AssertSameValues(Recorded(values), copy, values.Concat(more));

                copy.Reset();
                AssertSameValues(Recorded([.. values, .. more]), original, values.Concat(more));
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Every_setting_keeps_each_value_within_its_relative_precision() =>
        Prop.ForAll(
            (from digits in Gen.Choose(1, 5)
             from lowest in Gen.Frequency((1, Gen.Choose(1, 10)), (2, Gen.Choose(1, 1_000_000)))
             from span in Gen.Choose(2, 1_000_000)
             from fractions in Gen.NonEmptyListOf(Gen.Choose(0, int.MaxValue))
             select (digits, lowest: (long)lowest, highest: (long)lowest * span, fractions: fractions.ToArray())).ToArbitrary(),
            setting =>
            {
                var histogram = new LatencyHistogram(setting.lowest, setting.highest, setting.digits);
                var precision = (decimal)Math.Pow(10, setting.digits);
                var values = setting.fractions
                    .Select(f => setting.lowest + (long)((decimal)(setting.highest - setting.lowest) * f / int.MaxValue))
                    .Append(setting.lowest)
                    .Append(setting.highest);
                foreach (var value in values)
                {
                    var top = histogram.HighestEquivalentValue(value);
                    Assert.True(top >= value, $"{value} is above the top {top} of its own bucket");
                    Assert.True((top - value) * precision < value, $"{value}: its bucket reaches {top}, beyond 10^-{setting.digits}");
                    // The top of a bucket is in that bucket, and the next value is in the next one.
                    Assert.Equal(top, histogram.HighestEquivalentValue(top));
                    if (top < setting.highest)
                    {
                        Assert.True(histogram.HighestEquivalentValue(top + 1) > top);
                    }
                }
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void An_empty_histogram_answers_zero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Min);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.Mean);
        Assert.Equal(0, histogram.Clamped);
        Assert.All(_fixedPercentiles, p => Assert.Equal(0, histogram.ValueAtPercentile(p)));
    }

    [Fact]
    public void One_value_is_every_percentile_exactly()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(123_456_789);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(123_456_789, histogram.Min);
        Assert.Equal(123_456_789, histogram.Max);
        Assert.Equal(123_456_789, histogram.Mean);
        // The top of its bucket is above it, but the cap at Max brings every answer back to it.
        Assert.True(histogram.HighestEquivalentValue(123_456_789) > 123_456_789);
        Assert.All(_fixedPercentiles, p => Assert.Equal(123_456_789, histogram.ValueAtPercentile(p)));
    }

    [Fact]
    public void Values_below_the_lowest_count_as_the_lowest_but_keep_their_exact_min_and_mean()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(0);
        histogram.Record(999);
        histogram.Record(5_000);

        Assert.Equal(4, histogram.Count);
        Assert.Equal(3, histogram.CountAtValue(Lowest));
        Assert.Equal(-5, histogram.Min);
        Assert.Equal(5_000, histogram.Max);
        Assert.Equal((-5 + 0 + 999 + 5_000) / 4.0, histogram.Mean);
        Assert.Equal(0, histogram.Clamped);
        Assert.Equal(Lowest, histogram.ValueAtPercentile(0));
        Assert.Equal(Lowest, histogram.ValueAtPercentile(75));
        Assert.Equal(5_000, histogram.ValueAtPercentile(75.1));
    }

    [Fact]
    public void Values_above_the_highest_are_clamped_and_counted()
    {
        var histogram = new LatencyHistogram(lowestNanos: 1_000, highestNanos: 1_000_000);
        histogram.Record(500_000);
        histogram.Record(1_000_001);
        histogram.Record(long.MaxValue);
        histogram.Record(1_000_000);
        histogram.Record(2_000_000, count: 10);

        Assert.Equal(14, histogram.Count);
        Assert.Equal(12, histogram.Clamped);
        Assert.Equal(13, histogram.CountAtValue(1_000_000));
        Assert.Equal(long.MaxValue, histogram.Max);
        Assert.Equal(histogram.HighestEquivalentValue(1_000_000), histogram.ValueAtPercentile(50));
        Assert.True(histogram.ValueAtPercentile(99.99) is >= 1_000_000 and <= 1_001_000);
        Assert.Equal(long.MaxValue, histogram.ValueAtPercentile(100));
        Assert.Equal(1_000_000, histogram.HighestTrackable);
        Assert.Equal(1_000, histogram.LowestTrackable);
    }

    [Fact]
    public void P0_is_the_top_of_the_lowest_bucket_and_p100_is_the_exact_max()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(10_000_001);
        histogram.Record(20_000_000);
        histogram.Record(987_654_321);

        var p0 = histogram.ValueAtPercentile(0);
        Assert.Equal(histogram.HighestEquivalentValue(10_000_001), p0);
        Assert.True(p0 is > 10_000_001 and <= 10_010_000, $"p0 {p0}");
        Assert.Equal(10_000_001, histogram.Min);
        Assert.Equal(987_654_321, histogram.ValueAtPercentile(100));
        Assert.Equal(987_654_321, histogram.ValueAtPercentile(99.999_999));
    }

    [Fact]
    public void Huge_counts_do_not_overflow_the_rank_arithmetic()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_000, 1_000_000_000_000);
        histogram.Record(2_000_000, 1_000_000_000_000);

        Assert.Equal(2_000_000_000_000, histogram.Count);
        Assert.Equal(1_000, histogram.ValueAtPercentile(50));
        // Rank 10^12 + 2·10^6: the first value past the lower half.
        // (The top of that bucket is above 2 ms: capped at Max.)
        Assert.Equal(2_000_000, histogram.ValueAtPercentile(50.0001));
        Assert.Equal(2_000_000, histogram.ValueAtPercentile(100));
        Assert.Equal(1_000_500, histogram.Mean, 1e-6);

        // Counts near long.MaxValue: p · count is ~9·10^20, beyond a long.
        var full = new LatencyHistogram();
        full.Record(1_000, long.MaxValue / 2);
        full.Record(5_000_000, long.MaxValue / 2);
        Assert.Equal(long.MaxValue - 1, full.Count);
        Assert.Equal(1_000, full.ValueAtPercentile(50));
        Assert.Equal(5_000_000, full.ValueAtPercentile(50.000_000_001));
        Assert.Equal(5_000_000, full.ValueAtPercentile(99.999_999_999));
    }

    [Fact]
    public void Rank_is_the_nearest_rank_without_floating_point_overshoot()
    {
        // In doubles 99.9 / 100 · 1000 = 999.0000000000001 and 7 / 100 · 100 = 7.000000000000001.
        Assert.Equal(999, LatencyHistogram.RankAt(99.9, 1_000));
        Assert.Equal(7, LatencyHistogram.RankAt(7, 100));
        Assert.Equal(1, LatencyHistogram.RankAt(0, 1_000));
        Assert.Equal(1, LatencyHistogram.RankAt(0.0001, 1_000));
        Assert.Equal(2, LatencyHistogram.RankAt(50, 3));
        Assert.Equal(1_000, LatencyHistogram.RankAt(100, 1_000));
    }

    [Fact]
    public void Uniform_1_to_1_000_000_microseconds_has_p50_near_500_ms_and_p99_near_990_ms()
    {
        var histogram = new LatencyHistogram();
        for (long micros = 1; micros <= 1_000_000; micros++)
        {
            histogram.Record(micros * 1_000);
        }

        AssertWithinAThousandthAbove(500_000_000, histogram.ValueAtPercentile(50));
        AssertWithinAThousandthAbove(990_000_000, histogram.ValueAtPercentile(99));
        AssertWithinAThousandthAbove(999_000_000, histogram.ValueAtPercentile(99.9));
        AssertWithinAThousandthAbove(1_000, histogram.ValueAtPercentile(0));
        Assert.Equal(1_000_000_000, histogram.ValueAtPercentile(100));
        Assert.Equal(500_000_500, histogram.Mean, 1e-6);
        Assert.Equal(1_000_000, histogram.Count);
    }

    [Fact]
    public void Reset_forgets_every_value()
    {
        var histogram = Recorded([5_000, 6_000, Highest + 1]);
        histogram.Reset();

        AssertSameValues(new LatencyHistogram(), histogram, [5_000, 6_000, Highest]);
        histogram.Record(7_000);
        Assert.Equal(7_000, histogram.ValueAtPercentile(50));
        Assert.Equal(7_000, histogram.Min);
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 10_000; i++)
        {
            histogram.Record(i * 1_013L);
            histogram.Record(i * 1_013L, 2);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000_000; i++)
        {
            histogram.Record(i * 7_919L);
        }

        histogram.Record(Highest * 2, 3);
        var after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
        Assert.Equal(1_030_003, histogram.Count);
    }

    [Theory]
    [InlineData(-0.001)]
    [InlineData(100.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_percentile_outside_0_to_100_is_rejected(double percentile)
    {
        var histogram = Recorded([1_000]);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => histogram.ValueAtPercentile(percentile));
        Assert.Equal("percentile", error.ParamName);
        Assert.Contains("0 to 100", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L, 1_000L, 3, "lowestNanos", "at least 1")]
    [InlineData(-1L, 1_000L, 3, "lowestNanos", "at least 1")]
    [InlineData(1_000L, 1_999L, 3, "highestNanos", "at least twice the lowest")]
    [InlineData(long.MaxValue, long.MaxValue, 3, "highestNanos", "at least twice the lowest")]
    [InlineData(1_000L, 1_000_000L, 0, "significantDigits", "1 to 5")]
    [InlineData(1_000L, 1_000_000L, 6, "significantDigits", "1 to 5")]
    public void Settings_out_of_range_are_rejected_with_what_to_change(long lowest, long highest, int digits, string parameter, string hint)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyHistogram(lowest, highest, digits));
        Assert.Equal(parameter, error.ParamName);
        // The message itself (before the runtime's " (Parameter '...')") names the setting to change.
        var message = error.Message[..error.Message.IndexOf(" (Parameter", StringComparison.Ordinal)];
        Assert.Contains(hint, message, StringComparison.Ordinal);
        Assert.Contains(parameter, message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_widest_settings_are_accepted()
    {
        var histogram = new LatencyHistogram(1, long.MaxValue, 3);
        histogram.Record(long.MaxValue);
        histogram.Record(1);

        Assert.Equal(long.MaxValue, histogram.HighestEquivalentValue(long.MaxValue));
        Assert.Equal(1, histogram.ValueAtPercentile(50));
        Assert.Equal(long.MaxValue, histogram.ValueAtPercentile(51));
        Assert.Equal(0, histogram.Clamped);
    }

    [Fact]
    public void A_negative_count_is_rejected()
    {
        var histogram = new LatencyHistogram();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => histogram.Record(1_000, -1));
        Assert.Equal("count", error.ParamName);
        histogram.Record(1_000, 0);
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Max);
    }

    [Fact]
    public void Histograms_with_different_settings_cannot_be_combined()
    {
        var histogram = new LatencyHistogram();

        Assert.Throws<ArgumentException>(() => histogram.Add(new LatencyHistogram(significantDigits: 2)));
        Assert.Throws<ArgumentException>(() => histogram.Add(new LatencyHistogram(lowestNanos: 1)));
        Assert.Throws<ArgumentException>(() => histogram.Add(new LatencyHistogram(highestNanos: 1_000_000)));
        Assert.Throws<ArgumentException>(() => LatencyHistogram.Merge([histogram, new LatencyHistogram(significantDigits: 2)]));
    }

    [Fact]
    public void Merging_nothing_is_rejected_and_merging_leaves_the_inputs_alone()
    {
        Assert.Throws<ArgumentException>(() => LatencyHistogram.Merge([]));

        var first = Recorded([1_000, 2_000]);
        var second = Recorded([3_000]);
        var merged = LatencyHistogram.Merge([first, second, new LatencyHistogram()]);

        Assert.Equal(3, merged.Count);
        Assert.Equal(2, first.Count);
        Assert.Equal(1, second.Count);
        Assert.Equal(1_000, merged.Min);
        Assert.Equal(3_000, merged.Max);
    }

    private static LatencyHistogram Recorded(IEnumerable<long> values)
    {
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        return histogram;
    }

    // Nearest rank, spelled out independently: the ceil(p / 100 · n)-th smallest value, rank ≥ 1.
    private static long NearestRank(long[] sorted, double percentile)
    {
        var rank = (int)Math.Ceiling((decimal)percentile * sorted.Length / 100m);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    private static void AssertWithinAThousandthAbove(long exact, long answer)
    {
        Assert.True(answer >= exact && (answer - exact) * 1000 <= exact, $"{answer} is not within 0.1 % above {exact}");
    }

    private static void AssertSameValues(LatencyHistogram expected, LatencyHistogram actual, IEnumerable<long> values)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Min, actual.Min);
        Assert.Equal(expected.Max, actual.Max);
        Assert.Equal(expected.Clamped, actual.Clamped);
        Assert.Equal(expected.Mean, actual.Mean);
        foreach (var value in values)
        {
            Assert.Equal(expected.CountAtValue(value), actual.CountAtValue(value));
        }

        foreach (var percentile in _fixedPercentiles)
        {
            Assert.Equal(expected.ValueAtPercentile(percentile), actual.ValueAtPercentile(percentile));
        }
    }
}
