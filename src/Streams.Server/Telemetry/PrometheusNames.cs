using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// How instrument names, units and tag keys become Prometheus metric and label names, after the
/// OpenTelemetry "Prometheus and OpenMetrics compatibility" rules:
/// <list type="bullet">
/// <item>a metric name keeps <c>[a-zA-Z0-9_:]</c>; any other character (the dots of
/// <c>rpc.server.duration</c>) becomes <c>_</c>, runs of <c>_</c> collapse to one, and a leading
/// digit gets a <c>_</c> in front;</item>
/// <item>the unit becomes a suffix in full words (<c>ms</c> → <c>_milliseconds</c>, <c>By</c> →
/// <c>_bytes</c>, <c>By/s</c> → <c>_bytes_per_second</c>, <c>1</c> on a gauge → <c>_ratio</c>);
/// curly-brace annotations such as <c>{request}</c> are dropped, unknown units are sanitized and
/// used as they are, and the suffix is not repeated when the name already ends with it;</item>
/// <item>counters end in <c>_total</c> (after the unit);</item>
/// <item>a label name keeps <c>[a-zA-Z0-9_]</c>, any other character becomes <c>_</c>, and a
/// leading digit (or an empty name) gets a <c>_</c> in front.</item>
/// </list>
/// </summary>
internal static class PrometheusNames
{
    private const string TotalSuffix = "_total";

    /// <summary>The metric name of an instrument: sanitized name, unit suffix, <c>_total</c> for counters.</summary>
    public static string MetricName(string instrumentName, string? unit, PrometheusMetricType type)
    {
        ArgumentNullException.ThrowIfNull(instrumentName);
        var name = Sanitize(instrumentName, allowColon: true, collapse: true);
        if (type == PrometheusMetricType.Counter && name.EndsWith(TotalSuffix, StringComparison.Ordinal) && name.Length > TotalSuffix.Length)
        {
            name = name[..^TotalSuffix.Length];
        }

        var suffix = UnitSuffix(unit, type);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name = name.EndsWith('_') ? name + suffix : name + "_" + suffix;
        }

        return type == PrometheusMetricType.Counter ? name + TotalSuffix : name;
    }

    /// <summary>A label name from a tag key.</summary>
    public static string LabelName(string? key) => Sanitize(key ?? string.Empty, allowColon: false, collapse: false);

    /// <summary>The unit suffix without its leading underscore, or empty when the unit adds none.</summary>
    public static string UnitSuffix(string? unit, PrometheusMetricType type)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return string.Empty;
        }

        var stripped = StripAnnotations(unit).Trim();
        if (stripped.Length == 0)
        {
            return string.Empty;
        }

        if (stripped == "1")
        {
            return type == PrometheusMetricType.Gauge ? "ratio" : string.Empty;
        }

        var slash = stripped.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return Unit(stripped);
        }

        var numerator = stripped[..slash].Trim();
        var denominator = stripped[(slash + 1)..].Trim();
        var left = numerator.Length == 0 || numerator == "1" ? string.Empty : Unit(numerator);
        var right = denominator.Length == 0 ? string.Empty : PerUnit(denominator);
        if (right.Length == 0)
        {
            return left;
        }

        return left.Length == 0 ? "per_" + right : left + "_per_" + right;
    }

    private static string Unit(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tebibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => Sanitize(unit, allowColon: false, collapse: true).Trim('_'),
    };

    private static string PerUnit(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "min" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => Unit(unit),
    };

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Sanitize(string value, bool allowColon, bool collapse)
    {
        var builder = new StringBuilder(value.Length + 1);
        if (value.Length == 0 || char.IsAsciiDigit(value[0]))
        {
            builder.Append('_');
        }

        foreach (var c in value)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            var next = valid ? c : '_';
            if (collapse && next == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(next);
        }

        return builder.ToString();
    }
}
