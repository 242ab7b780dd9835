namespace Streams.Server.Telemetry;

/// <summary>
/// The explicit bucket boundaries of one histogram: strictly increasing finite upper bounds, and
/// their rendered <c>le</c> labels (one more for <c>+Inf</c>). Shared, read-only, by every series
/// of the instrument.
/// </summary>
internal sealed class PrometheusBuckets
{
    private PrometheusBuckets(double[] bounds)
    {
        Bounds = bounds;
        var labels = new string[bounds.Length + 1];
        for (var i = 0; i < bounds.Length; i++)
        {
            labels[i] = $"le=\"{PrometheusText.FormatDouble(bounds[i])}\"";
        }

        labels[^1] = "le=\"+Inf\"";
        LeLabels = labels;
    }

    /// <summary>The finite upper bounds, ascending, without duplicates.</summary>
    public double[] Bounds { get; }

    /// <summary>The <c>le="..."</c> pair of each bucket, the last being <c>+Inf</c>.</summary>
    public string[] LeLabels { get; }

    /// <summary>
    /// The default bounds, in milliseconds: 0.1 ms to 10 s, about three per decade. Instruments
    /// whose unit is seconds (<c>s</c>) get the same bounds divided by 1000.
    /// </summary>
    public static ReadOnlySpan<double> DefaultMilliseconds =>
        [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>
    /// The buckets of an instrument: its advice when it gives usable bounds (NaN and infinities
    /// are dropped, the rest sorted and made distinct), the defaults otherwise.
    /// </summary>
    public static PrometheusBuckets For(IEnumerable<double>? advice, string? unit)
    {
        if (advice is not null)
        {
            var bounds = advice.Where(double.IsFinite).Distinct().Order().ToArray();
            if (bounds.Length > 0)
            {
                return new PrometheusBuckets(bounds);
            }
        }

        var defaults = DefaultMilliseconds.ToArray();
        if (unit == "s")
        {
            for (var i = 0; i < defaults.Length; i++)
            {
                defaults[i] /= 1000;
            }
        }

        return new PrometheusBuckets(defaults);
    }

    /// <summary>The index of the bucket of <paramref name="value"/>: the first bound at least the value, or the +Inf bucket.</summary>
    public int IndexOf(double value)
    {
        var bounds = Bounds;
        int low = 0, high = bounds.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (value <= bounds[middle])
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }
}
