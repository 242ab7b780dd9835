using System.Globalization;
using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// A histogram over fixed explicit bucket boundaries: one counter per bucket (a value lands in
/// the first bucket whose upper bound is at least the value, or in +Inf) and the sum. The count
/// written is the sum of the buckets read, so <c>_count</c> always equals the <c>+Inf</c> bucket.
/// NaN measurements are ignored.
/// </summary>
internal sealed class PrometheusHistogramSeries : PrometheusSeries
{
    private readonly PrometheusBuckets _buckets;
    private readonly long[] _counts;
    private double _sum;

    /// <summary>Creates an empty series over <paramref name="buckets"/>.</summary>
    public PrometheusHistogramSeries(string labels, PrometheusBuckets buckets)
        : base(labels)
    {
        _buckets = buckets;
        _counts = new long[buckets.Bounds.Length + 1];
    }

    /// <inheritdoc />
    public override void Record(long value) => Record((double)value);

    /// <inheritdoc />
    public override void Record(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        Interlocked.Increment(ref _counts[_buckets.IndexOf(value)]);
        AddAtomic(ref _sum, value);
    }

    /// <inheritdoc />
    public override void Write(StringBuilder builder, string name)
    {
        long cumulative = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            AppendSample(builder, name, "_bucket", cumulative.ToString(CultureInfo.InvariantCulture), _buckets.LeLabels[i]);
        }

        AppendSample(builder, name, "_sum", PrometheusText.FormatDouble(Volatile.Read(ref _sum)));
        AppendSample(builder, name, "_count", cumulative.ToString(CultureInfo.InvariantCulture));
    }
}
