using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// A running sum (counters and up-down counters): integral measurements add to a 64-bit integer,
/// exactly; floating-point ones to a double.
/// </summary>
internal sealed class PrometheusSumSeries(string labels) : PrometheusSeries(labels)
{
    private long _integral;
    private double _floating;

    /// <inheritdoc />
    public override void Record(long value) => Interlocked.Add(ref _integral, value);

    /// <inheritdoc />
    public override void Record(double value) => AddAtomic(ref _floating, value);

    /// <inheritdoc />
    public override void Write(StringBuilder builder, string name)
    {
        var integral = Interlocked.Read(ref _integral);
        var floating = Volatile.Read(ref _floating);
        var value = floating == 0
            ? integral.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : PrometheusText.FormatDouble(integral + floating);
        AppendSample(builder, name, string.Empty, value);
    }
}
