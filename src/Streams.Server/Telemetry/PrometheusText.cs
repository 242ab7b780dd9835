using System.Globalization;
using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>Escaping and number formatting of the Prometheus text format, version 0.0.4.</summary>
internal static class PrometheusText
{
    /// <summary>The content type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Appends a label value with backslash, double quote and line feed escaped.</summary>
    public static StringBuilder AppendLabelValue(StringBuilder builder, string value) => AppendEscaped(builder, value, escapeQuotes: true);

    /// <summary>Appends help text with backslash and line feed escaped (quotes stay as they are).</summary>
    public static StringBuilder AppendHelp(StringBuilder builder, string help) => AppendEscaped(builder, help, escapeQuotes: false);

    private static StringBuilder AppendEscaped(StringBuilder builder, string text, bool escapeQuotes)
    {
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => builder.Append(@"\\"),
                '\n' => builder.Append(@"\n"),
                '"' when escapeQuotes => builder.Append("\\\""),
                _ => builder.Append(c),
            };
        }

        return builder;
    }

    /// <summary>A sample value: shortest round-trip form, <c>+Inf</c>, <c>-Inf</c> or <c>NaN</c>.</summary>
    public static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>A tag value as label text: strings as they are, numbers and dates invariant, booleans lower case.</summary>
    public static string FormatTagValue(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        double number => FormatDouble(number),
        float number => FormatDouble(number),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
