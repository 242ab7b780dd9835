using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// The aggregate of one instrument for one label set. Recording is lock-free (Interlocked) and
/// may run on any number of threads at once; writing reads a consistent-enough snapshot without
/// stopping them.
/// </summary>
internal abstract class PrometheusSeries(string labels)
{
    /// <summary>The rendered label pairs without braces, such as <c>a="x",b="y"</c>; empty for none.</summary>
    public string Labels { get; } = labels;

    /// <summary>Records an integral measurement.</summary>
    public abstract void Record(long value);

    /// <summary>Records a floating-point measurement.</summary>
    public abstract void Record(double value);

    /// <summary>Appends the sample lines of this series for the metric <paramref name="name"/>.</summary>
    public abstract void Write(StringBuilder builder, string name);

    /// <summary>Appends one sample line: name, suffix, labels (plus one more pair if given) and value.</summary>
    protected void AppendSample(StringBuilder builder, string name, string suffix, string value, string? extraLabel = null)
    {
        builder.Append(name).Append(suffix);
        if (Labels.Length > 0 || extraLabel is not null)
        {
            builder.Append('{').Append(Labels);
            if (extraLabel is not null)
            {
                if (Labels.Length > 0)
                {
                    builder.Append(',');
                }

                builder.Append(extraLabel);
            }

            builder.Append('}');
        }

        builder.Append(' ').Append(value).Append('\n');
    }

    /// <summary>Adds to a double atomically (compare-and-swap on its bits, so NaN cannot spin forever).</summary>
    protected static void AddAtomic(ref double location, double value)
    {
        var current = Volatile.Read(ref location);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref location, current + value, current);
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}
