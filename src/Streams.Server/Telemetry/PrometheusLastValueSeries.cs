using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// The last value measured (gauges, and every observable instrument, whose callbacks report
/// absolute values: an observable counter reports its total so far).
/// </summary>
internal sealed class PrometheusLastValueSeries(string labels) : PrometheusSeries(labels)
{
    private double _value;

    /// <inheritdoc />
    public override void Record(long value) => Volatile.Write(ref _value, value);

    /// <inheritdoc />
    public override void Record(double value) => Volatile.Write(ref _value, value);

    /// <inheritdoc />
    public override void Write(StringBuilder builder, string name) =>
        AppendSample(builder, name, string.Empty, PrometheusText.FormatDouble(Volatile.Read(ref _value)));
}
