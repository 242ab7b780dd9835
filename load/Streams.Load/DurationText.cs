using System.CommandLine.Parsing;
using System.Globalization;

namespace Streams.Load;

/// <summary>Durations written as a number and a unit: <c>500ms</c>, <c>4s</c>, <c>1.5s</c>, <c>2m</c>; a bare number is seconds.</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        double scale;
        if (span.EndsWith("ms", StringComparison.OrdinalIgnoreCase))
        {
            scale = 1e-3;
            span = span[..^2];
        }
        else if (span.EndsWith('s') || span.EndsWith('S'))
        {
            scale = 1;
            span = span[..^1];
        }
        else if (span.EndsWith('m') || span.EndsWith('M'))
        {
            scale = 60;
            span = span[..^1];
        }
        else
        {
            scale = 1;
        }

        if (!double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            return false;
        }

        value = TimeSpan.FromSeconds(number * scale);
        return true;
    }

    /// <summary>
    /// Parses a duration option's token for System.CommandLine: a positive duration (or zero too with
    /// <paramref name="allowZero"/>); otherwise adds an error saying how to write one, with
    /// <paramref name="examples"/>.
    /// </summary>
    public static TimeSpan ParseArgument(ArgumentResult result, bool allowZero = false, string examples = "500ms, 4s or 1m")
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text, out var value) && (value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero)))
        {
            return value;
        }

        result.AddError($"'{text}' is not a {(allowZero ? "" : "positive ")}duration: write a number and a unit, such as {examples}.");
        return TimeSpan.Zero;
    }

    public static string Format(TimeSpan value) => value.TotalSeconds >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s")
        : string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0}ms");
}
