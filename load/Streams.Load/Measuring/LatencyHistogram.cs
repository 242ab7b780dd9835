using System.Numerics;

namespace Streams.Load.Measuring;

/// <summary>
/// A log-linear latency histogram in the style of HdrHistogram: values in nanoseconds, kept in
/// buckets whose width grows with the value, so that every value from <see cref="LowestTrackable"/>
/// to <see cref="HighestTrackable"/> is known within a relative error of 10^-digits (0.1 % for the
/// default 3 significant digits) in a fixed, small array, whatever the number of values.
/// </summary>
/// <remarks>
/// <para>
/// Layout: the values are first divided by a unit (the largest power of two no more than
/// lowest / 10^digits, so that a unit step is within the precision at the lowest value). The first
/// <c>2·half</c> units are counted one per slot; each following power-of-two range
/// [half·2^k, half·2^(k+1)) units is split into <c>half</c> slots of 2^k units, where <c>half</c>
/// is the power of two at least 10^digits. A slot is then never wider than value / 10^digits,
/// and the slot of a value is found with one leading-zero count and two shifts.
/// </para>
/// <para>
/// Not thread-safe: one histogram per worker, combined with <see cref="Add"/> or
/// <see cref="Merge"/> (or use <see cref="IntervalRecorder"/> for many concurrent writers).
/// <see cref="Record(long)"/> does not allocate and takes constant time.
/// </para>
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>The default lowest value tracked with full precision: 1 µs.</summary>
    public const long DefaultLowestNanos = 1_000;

    /// <summary>The default highest value tracked: one hour.</summary>
    public const long DefaultHighestNanos = 3_600_000_000_000;

    /// <summary>The default precision: 3 significant digits, a relative error of 0.1 %.</summary>
    public const int DefaultSignificantDigits = 3;

    private readonly long _lowest;
    private readonly long _highest;
    private readonly int _digits;

    // log2 of the unit every value is divided by before it is bucketed.
    private readonly int _unitShift;

    // log2 of the number of slots per power-of-two range (the "half" of the remarks).
    private readonly int _halfShift;

    // Slots 0 .. 2·half-1 of the linear start, minus one: OR-ing it into a scaled value makes every
    // value of the linear start look like the same power of two, so they share range 0.
    private readonly ulong _linearMask;

    private readonly long[] _counts;

    private long _count;
    private long _clamped;
    private long _min = long.MaxValue;
    private long _max = long.MinValue;

    // Exact, so the mean does not depend on the order of records and merges (a double sum rounds
    // past 2^53 ns, and a long overflows at 9.2e18 ns, easily reached by Record(v, 1e12)); 128
    // bits hold up to 2^63 values of up to 2^63 ns.
    private Int128 _sum;

    /// <summary>Creates an empty histogram.</summary>
    /// <param name="lowestNanos">The lowest value kept within the precision, at least 1; smaller values count as this one.</param>
    /// <param name="highestNanos">The highest value tracked, at least twice <paramref name="lowestNanos"/>; larger values count as this one (see <see cref="Clamped"/>).</param>
    /// <param name="significantDigits">Decimal digits of precision, 1 to 5: the relative error is at most 10^-digits.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside the ranges above.</exception>
    public LatencyHistogram(long lowestNanos = DefaultLowestNanos, long highestNanos = DefaultHighestNanos, int significantDigits = DefaultSignificantDigits)
    {
        if (lowestNanos < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(lowestNanos), lowestNanos,
                "The lowest trackable value must be at least 1 ns; pass 1 (or more) as lowestNanos.");
        }

        // highest < 2·lowest, written so that it cannot overflow.
        if (highestNanos / 2 < lowestNanos)
        {
            throw new ArgumentOutOfRangeException(nameof(highestNanos), highestNanos,
                $"The highest trackable value must be at least twice the lowest ({lowestNanos} ns); raise highestNanos or lower lowestNanos.");
        }

        if (significantDigits is < 1 or > 5)
        {
            throw new ArgumentOutOfRangeException(nameof(significantDigits), significantDigits,
                "Significant digits must be 1 to 5 (3 = 0.1 % relative error); pass a significantDigits in that range.");
        }

        _lowest = lowestNanos;
        _highest = highestNanos;
        _digits = significantDigits;

        long precision = 1;
        for (var i = 0; i < significantDigits; i++)
        {
            precision *= 10;
        }

        // half ≥ 10^digits keeps a slot of a power-of-two range within value / 10^digits.
        _halfShift = BitOperations.Log2((ulong)(precision - 1)) + 1;

        // unit ≤ lowest / 10^digits keeps the unit-wide slots of the linear start within the
        // precision for every value from the lowest up.
        var unitsInLowestStep = lowestNanos / precision;
        _unitShift = unitsInLowestStep >= 1 ? BitOperations.Log2((ulong)unitsInLowestStep) : 0;

        _linearMask = (2UL << _halfShift) - 1;
        _counts = new long[IndexOf(highestNanos) + 1];
    }

    // The copy constructor of Copy(): the same settings, the same counts.
    private LatencyHistogram(LatencyHistogram source)
    {
        _lowest = source._lowest;
        _highest = source._highest;
        _digits = source._digits;
        _unitShift = source._unitShift;
        _halfShift = source._halfShift;
        _linearMask = source._linearMask;
        _counts = (long[])source._counts.Clone();
        _count = source._count;
        _clamped = source._clamped;
        _min = source._min;
        _max = source._max;
        _sum = source._sum;
    }

    /// <summary>The lowest value kept within the precision; smaller values are counted as this one.</summary>
    public long LowestTrackable => _lowest;

    /// <summary>The highest value tracked; larger values are counted as this one.</summary>
    public long HighestTrackable => _highest;

    /// <summary>Decimal digits of precision: values are kept within a relative error of 10^-digits.</summary>
    public int SignificantDigits => _digits;

    /// <summary>How many values were recorded.</summary>
    public long Count => _count;

    /// <summary>How many of the recorded values were above <see cref="HighestTrackable"/> and counted as it.</summary>
    public long Clamped => _clamped;

    /// <summary>The smallest value recorded, exactly as given (not bucketed); 0 when empty.</summary>
    public long Min => _count == 0 ? 0 : _min;

    /// <summary>The largest value recorded, exactly as given (not bucketed); 0 when empty.</summary>
    public long Max => _count == 0 ? 0 : _max;

    /// <summary>The mean of the values recorded, exactly as given (not bucketed); 0 when empty.</summary>
    public double Mean => _count == 0 ? 0 : (double)_sum / _count;

    /// <summary>Combines histograms into a new one (the inputs are left as they are).</summary>
    /// <param name="histograms">At least one histogram; all with the same settings.</param>
    /// <returns>A histogram holding every value of every input.</returns>
    /// <exception cref="ArgumentException">There is no histogram, or the settings differ.</exception>
    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> histograms)
    {
        ArgumentNullException.ThrowIfNull(histograms);
        LatencyHistogram? merged = null;
        foreach (var histogram in histograms)
        {
            ArgumentNullException.ThrowIfNull(histogram, nameof(histograms));
            if (merged is null)
            {
                merged = histogram.Copy();
            }
            else
            {
                merged.Add(histogram);
            }
        }

        // With no input there are no settings to give the result; a default one would not merge
        // with the caller's other histograms later, so say so now.
        return merged ?? throw new ArgumentException(
            "Merge needs at least one histogram (its settings are those of the result); pass a non-empty sequence.", nameof(histograms));
    }

    /// <summary>Counts one value. Never throws: values out of range are counted at the nearest end.</summary>
    /// <param name="nanos">The value, in nanoseconds.</param>
    public void Record(long nanos)
    {
        var bucketed = nanos;
        if (bucketed < _lowest)
        {
            bucketed = _lowest;
        }
        else if (bucketed > _highest)
        {
            bucketed = _highest;
            _clamped++;
        }

        _counts[IndexOf(bucketed)]++;
        _count++;
        _sum += nanos;
        if (nanos < _min)
        {
            _min = nanos;
        }

        if (nanos > _max)
        {
            _max = nanos;
        }
    }

    /// <summary>Counts one value <paramref name="count"/> times (as if recorded that many times).</summary>
    /// <param name="nanos">The value, in nanoseconds; out-of-range values are counted at the nearest end.</param>
    /// <param name="count">How many times; 0 records nothing.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public void Record(long nanos, long count)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                "A value cannot be recorded a negative number of times; pass a count of 0 or more.");
        }

        if (count == 0)
        {
            return;
        }

        var bucketed = nanos;
        if (bucketed < _lowest)
        {
            bucketed = _lowest;
        }
        else if (bucketed > _highest)
        {
            bucketed = _highest;
            _clamped += count;
        }

        _counts[IndexOf(bucketed)] += count;
        _count += count;
        _sum += (Int128)nanos * count;
        _min = Math.Min(_min, nanos);
        _max = Math.Max(_max, nanos);
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    /// <param name="other">A histogram with the same lowest, highest and digits.</param>
    /// <exception cref="ArgumentException">The settings differ: the buckets would not line up.</exception>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._lowest != _lowest || other._highest != _highest || other._digits != _digits)
        {
            throw new ArgumentException(
                $"Only histograms with the same settings can be added: this one tracks {_lowest}..{_highest} ns with {_digits} digits, " +
                $"the other {other._lowest}..{other._highest} ns with {other._digits}; create both with the same settings.",
                nameof(other));
        }

        var counts = _counts;
        var otherCounts = other._counts;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] += otherCounts[i];
        }

        _count += other._count;
        _clamped += other._clamped;
        _sum += other._sum;
        // The empty-histogram sentinels (MaxValue, MinValue) lose both comparisons, so no test for empty.
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
    }

    /// <summary>Forgets every value, keeping the settings and the array (no allocation).</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        _count = 0;
        _clamped = 0;
        _sum = 0;
        _min = long.MaxValue;
        _max = long.MinValue;
    }

    /// <summary>An independent copy: recording into one does not change the other.</summary>
    /// <returns>A histogram with the same settings and values.</returns>
    public LatencyHistogram Copy() => new(this);

    /// <summary>
    /// The value below which <paramref name="percentile"/> % of the values lie: the highest value
    /// equivalent to (in the same bucket as) the value of rank ceil(percentile / 100 · count), at
    /// least 1, as HdrHistogram does. So the answer is never below the exact nearest-rank
    /// percentile and at most 10^-digits above it. It is capped at <see cref="Max"/>, which keeps
    /// percentiles from decreasing as <paramref name="percentile"/> grows, and 100 gives
    /// <see cref="Max"/> exactly.
    /// </summary>
    /// <param name="percentile">0 to 100 (99.9 for the 99.9th percentile).</param>
    /// <returns>The value in nanoseconds; 0 when empty.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is not within [0, 100].</exception>
    public long ValueAtPercentile(double percentile)
    {
        if (!(percentile is >= 0 and <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile,
                "The percentile must be from 0 to 100; pass 99.9 for the 99.9th percentile, not 0.999.");
        }

        if (_count == 0)
        {
            return 0;
        }

        if (percentile >= 100)
        {
            return _max;
        }

        var rank = RankAt(percentile, _count);
        long seen = 0;
        var counts = _counts;
        // Every slot below the smallest value's is empty: start there.
        for (var i = IndexOf(Math.Clamp(_min, _lowest, _highest)); i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return Math.Min(HighestOfSlot(i), _max);
            }
        }

        return _max;
    }

    /// <summary>The highest value counted in the same bucket as <paramref name="nanos"/> (after clamping to the tracked range).</summary>
    /// <param name="nanos">Any value.</param>
    /// <returns>The top of its bucket: what a percentile landing in that bucket reports (before the cap at <see cref="Max"/>).</returns>
    public long HighestEquivalentValue(long nanos) => HighestOfSlot(IndexOf(Math.Clamp(nanos, _lowest, _highest)));

    /// <summary>How many recorded values share the bucket of <paramref name="nanos"/> (after clamping to the tracked range).</summary>
    /// <param name="nanos">Any value.</param>
    /// <returns>The count of that bucket.</returns>
    public long CountAtValue(long nanos) => _counts[IndexOf(Math.Clamp(nanos, _lowest, _highest))];

    /// <summary>
    /// The nearest rank of <paramref name="percentile"/> among <paramref name="count"/> values:
    /// ceil(p / 100 · count), at least 1. In decimal: in doubles, 99.9 / 100 · 1000 is
    /// 999.0000000000001 and ceil would skip to rank 1000; decimal holds the percentile as written
    /// (15 significant digits) and the product exactly (p · count ≤ 100 · 2^63 fits its 96 bits).
    /// </summary>
    /// <param name="percentile">0 to 100.</param>
    /// <param name="count">The number of values, at least 1.</param>
    /// <returns>The 1-based rank.</returns>
    internal static long RankAt(double percentile, long count)
    {
        var rank = (long)decimal.Ceiling((decimal)percentile * count / 100m);
        return Math.Clamp(rank, 1, count);
    }

    // The slot of a value already clamped to [lowest, highest]. In units, the linear start
    // (< 2·half) is slot = units; above it, range k ≥ 1 holds [half·2^k, half·2^(k+1)) in slots of
    // 2^k units, and units >> k lands in [half, 2·half): slot = k·half + (units >> k), which
    // continues exactly where range k-1 ended.
    private int IndexOf(long nanos)
    {
        var units = (ulong)nanos >> _unitShift;
        var range = BitOperations.Log2(units | _linearMask) - _halfShift;
        return (range << _halfShift) + (int)(units >> range);
    }

    // The inverse of IndexOf: the highest value whose slot is this one.
    private long HighestOfSlot(int index)
    {
        var range = Math.Max(0, (index >> _halfShift) - 1);
        var unitsInSlot = (long)index - ((long)range << _halfShift);
        var bottom = unitsInSlot << (range + _unitShift);
        // Add (width - 1), not width then - 1: the top slot's bottom + width can be 2^63.
        return bottom + ((1L << (range + _unitShift)) - 1);
    }
}
