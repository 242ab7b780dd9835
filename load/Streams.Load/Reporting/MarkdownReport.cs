using System.Globalization;
using System.Text;

namespace Streams.Load.Reporting;

/// <summary>
/// Writes a <see cref="LoadReport"/> as a Markdown document: the title, when and where it ran, the
/// command, the method, a summary table per group of comparable scenarios, then each scenario's notes.
/// Also holds the grouping rule and the number formats, so the HTML report says exactly the same.
/// </summary>
/// <remarks>
/// Grouping rule (first match wins), chosen so that figures side by side measure the same thing:
/// <list type="number">
/// <item><see cref="ScenarioGroup.EndToEnd"/>: the key, workload or profile mentions <c>end-to-end</c>, <c>end to end</c> or <c>e2e</c>.</item>
/// <item><see cref="ScenarioGroup.Ramp"/>: the profile starts with <c>ramp</c>.</item>
/// <item><see cref="ScenarioGroup.OpenLoop"/>: an offered rate is set, or the profile mentions <c>open loop</c>.</item>
/// <item><see cref="ScenarioGroup.ClosedLoop"/>: everything else (no offered rate: as fast as acknowledgements allow).</item>
/// </list>
/// Groups appear in that enum's order, each scenario in run order; empty groups are left out.
/// </remarks>
internal static class MarkdownReport
{
    /// <summary>How a scenario was paced, which decides what its figures mean and so which ones it is compared with.</summary>
    internal enum ScenarioGroup
    {
        /// <summary>Each producer sends when its previous request is acknowledged: the rate is the most the target sustains.</summary>
        ClosedLoop,

        /// <summary>Requests at a fixed offered rate, late or not: latency includes queueing.</summary>
        OpenLoop,

        /// <summary>An offered rate that rises during the run.</summary>
        Ramp,

        /// <summary>Latency from put to delivery.</summary>
        EndToEnd,
    }

    /// <summary>The summary table's column names, shared with the HTML report.</summary>
    internal static IReadOnlyList<string> Columns { get; } =
        ["system", "target", "workload", "profile", "guarantee", "records/s", "MB/s", "p50 (ms)", "p90 (ms)", "p99 (ms)", "p99.9 (ms)", "max (ms)", "errors"];

    /// <summary>How many leading columns are text (left-aligned); the rest are figures (right-aligned).</summary>
    internal const int TextColumns = 5;

    /// <summary>The Markdown document for <paramref name="report"/>.</summary>
    /// <param name="report">The run to describe.</param>
    /// <returns>CommonMark with GitHub tables; every string from the report is escaped, so it shows as written.</returns>
    public static string Write(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.Append("# ").Append(Inline(report.Title)).Append("\n\n");
        md.Append("- **When:** ").Append(Inline(When(report.Started))).Append('\n');
        md.Append("- **Machine:** ").Append(Inline(report.Machine)).Append("\n\n");
        md.Append("**Command:**\n\n");
        var fence = Fence(report.Command);
        md.Append(fence).Append("text\n").Append(report.Command.TrimEnd('\n', '\r')).Append('\n').Append(fence).Append("\n\n");

        if (report.Method.Count > 0)
        {
            md.Append("## Method\n\n");
            foreach (var paragraph in report.Method)
            {
                md.Append(Inline(paragraph)).Append("\n\n");
            }
        }

        var groups = Groups(report);
        if (groups.Count == 0)
        {
            md.Append("No scenarios were run.\n");
            return md.ToString();
        }

        foreach (var (group, scenarios) in groups)
        {
            md.Append("## ").Append(Heading(group)).Append("\n\n");
            md.Append(Explanation(group)).Append("\n\n");
            md.Append("| ").Append(string.Join(" | ", Columns)).Append(" |\n|");
            for (var i = 0; i < Columns.Count; i++)
            {
                md.Append(i < TextColumns ? " --- |" : " ---: |");
            }

            md.Append('\n');
            foreach (var scenario in scenarios)
            {
                md.Append("| ").Append(string.Join(" | ", Row(scenario).Select((cell, i) => i < TextColumns ? Inline(cell) : cell))).Append(" |\n");
            }

            md.Append('\n');
        }

        var noted = report.Scenarios.Where(s => s.Notes.Count > 0).ToList();
        if (noted.Count > 0)
        {
            md.Append("## Notes\n\n");
            foreach (var scenario in noted)
            {
                md.Append("### ").Append(CodeSpan(scenario.Key)).Append("\n\n");
                md.Append(Inline(Describe(scenario))).Append("\n\n");
                foreach (var note in scenario.Notes)
                {
                    md.Append("- ").Append(Inline(note)).Append('\n');
                }

                md.Append('\n');
            }
        }

        return md.ToString();
    }

    /// <summary>Which group <paramref name="scenario"/> belongs to (see the rule in the remarks).</summary>
    internal static ScenarioGroup GroupOf(ScenarioOutcome scenario)
    {
        static bool Mentions(string text, string word) => text.Contains(word, StringComparison.OrdinalIgnoreCase);
        string[] texts = [scenario.Key, scenario.Workload, scenario.Profile];
        if (texts.Any(t => Mentions(t, "end-to-end") || Mentions(t, "end to end") || Mentions(t, "e2e")))
        {
            return ScenarioGroup.EndToEnd;
        }

        if (scenario.Profile.TrimStart().StartsWith("ramp", StringComparison.OrdinalIgnoreCase))
        {
            return ScenarioGroup.Ramp;
        }

        return scenario.OfferedRecordsPerSecond > 0 || Mentions(scenario.Profile, "open loop") || Mentions(scenario.Profile, "open-loop")
            ? ScenarioGroup.OpenLoop
            : ScenarioGroup.ClosedLoop;
    }

    /// <summary>The non-empty groups in <see cref="ScenarioGroup"/> order, scenarios in run order.</summary>
    internal static IReadOnlyList<(ScenarioGroup Group, IReadOnlyList<ScenarioOutcome> Scenarios)> Groups(LoadReport report) =>
        [.. Enum.GetValues<ScenarioGroup>()
            .Select(group => (group, (IReadOnlyList<ScenarioOutcome>)[.. report.Scenarios.Where(s => GroupOf(s) == group)]))
            .Where(group => group.Item2.Count > 0)];

    /// <summary>The heading of a group.</summary>
    internal static string Heading(ScenarioGroup group) => group switch
    {
        ScenarioGroup.ClosedLoop => "Maximum throughput (closed loop)",
        ScenarioGroup.OpenLoop => "Latency at a fixed offered rate (open loop)",
        ScenarioGroup.Ramp => "Ramps (offered rate rising)",
        _ => "End to end (put to delivery)",
    };

    /// <summary>One sentence under a group's heading on how to read its figures.</summary>
    internal static string Explanation(ScenarioGroup group) => group switch
    {
        ScenarioGroup.ClosedLoop => "Each producer sends its next request when the previous one is acknowledged, so records/s is the most the target sustained; latency is from each request's actual start.",
        ScenarioGroup.OpenLoop => "Requests are sent at the offered rate whether or not earlier ones completed, and latency counts from each request's intended start, so queueing behind a slow target shows.",
        ScenarioGroup.Ramp => "The offered rate rises during the run; the per-scenario charts show where latency turns up.",
        _ => "Latency from a record's put to its delivery.",
    };

    /// <summary>A scenario's summary row, as text, in <see cref="Columns"/> order (not yet escaped).</summary>
    internal static IReadOnlyList<string> Row(ScenarioOutcome s) =>
    [
        s.System, s.Target, s.Workload, s.Profile, s.Guarantee,
        Rate(s.RecordsPerSecond), Rate(s.MegabytesPerSecond),
        Milliseconds(s.Latency.P50), Milliseconds(s.Latency.P90), Milliseconds(s.Latency.P99), Milliseconds(s.Latency.P999), Milliseconds(s.Latency.Max),
        Count(s.Errors),
    ];

    /// <summary>A one-line description of a scenario, for headings where the key alone is cryptic.</summary>
    internal static string Describe(ScenarioOutcome s) => string.Join(" · ", new[] { s.System, s.Target, s.Workload, s.Profile, s.Guarantee }.Where(t => t.Length > 0));

    /// <summary>When a run started, readable and unambiguous (the offset is kept).</summary>
    internal static string When(DateTimeOffset started) => started.ToString("yyyy-MM-dd HH:mm:ss 'UTC'zzz", CultureInfo.InvariantCulture);

    /// <summary>Milliseconds to about three significant figures (<c>1,234</c>, <c>12.3</c>, <c>1.23</c>, <c>0.123</c>, <c>0.9</c>), "—" for NaN.</summary>
    internal static string Milliseconds(double value) => Significant(value, 6);

    /// <summary>A rate with thousands separators and, below 100, about three significant figures; "—" for NaN.</summary>
    internal static string Rate(double value) => Significant(value, 2);

    /// <summary>A count with thousands separators.</summary>
    internal static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A duration in seconds, as few decimals as it needs.</summary>
    internal static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("#,0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>
    /// About three significant figures, with thousands separators and at most <paramref name="maxDecimals"/>
    /// decimals: latencies span decades, and more digits than the measurement's precision only add noise.
    /// </summary>
    private static string Significant(double value, int maxDecimals)
    {
        if (!double.IsFinite(value))
        {
            // Infinite cannot come from a measurement either: treat it as "no figure", like NaN.
            return "—";
        }

        if (value == 0)
        {
            return "0";
        }

        // Trailing zeros are dropped ("0.9", not "0.900"): they would claim a precision that was not measured.
        var decimals = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, maxDecimals);
        return value.ToString(decimals == 0 ? "#,0" : "#,0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Text from the report as literal Markdown inline text: punctuation that Markdown or HTML would
    /// interpret is backslash-escaped (CommonMark allows it before any ASCII punctuation), and line
    /// breaks become spaces so a table row stays one line.
    /// </summary>
    private static string Inline(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '&' or '~' or '#':
                    escaped.Append('\\').Append(c);
                    break;
                case '\r' or '\n' or '\t':
                    escaped.Append(' ');
                    break;
                default:
                    escaped.Append(c);
                    break;
            }
        }

        return escaped.ToString();
    }

    /// <summary>A code span that survives backticks in the text (a longer backtick run delimits it).</summary>
    private static string CodeSpan(string text)
    {
        var longestRun = LongestRun(text, '`');
        var ticks = new string('`', longestRun + 1);
        var pad = longestRun > 0 ? " " : string.Empty;
        return ticks + pad + text.Replace('\n', ' ').Replace('\r', ' ') + pad + ticks;
    }

    /// <summary>A code fence longer than any backtick run in the text, so the text cannot close it.</summary>
    private static string Fence(string text) => new('`', Math.Max(3, LongestRun(text, '`') + 1));

    private static int LongestRun(string text, char c)
    {
        int longest = 0, run = 0;
        foreach (var ch in text)
        {
            run = ch == c ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }
}
