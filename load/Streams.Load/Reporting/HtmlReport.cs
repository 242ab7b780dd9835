using System.Globalization;
using System.Text;

namespace Streams.Load.Reporting;

/// <summary>
/// Writes a <see cref="LoadReport"/> as one self-contained HTML file: inline CSS and inline SVG
/// charts (see <see cref="SvgChart"/>), no scripts and nothing fetched, so it opens offline and can
/// be attached or archived as is. It has the Markdown report's summary tables (same grouping, same
/// number formats), a comparison of the groups across systems and targets, and per scenario its
/// details, notes and two timeline charts.
/// </summary>
internal static class HtmlReport
{
    private const string Style = """
        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
        main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
        h1 { font-size: 1.7em; margin: 0.2em 0 0.4em; }
        h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
        h3 { font-size: 1.08em; margin: 1.6em 0 0.4em; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0.6em 0; }
        dl.facts dt { font-weight: 600; color: #444; }
        dl.facts dd { margin: 0; }
        pre { background: #f5f5f5; border: 1px solid #e2e2e2; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
        code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.92em; }
        p.explain { color: #555; margin: 0.2em 0 0.6em; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 13px; width: 100%; }
        th, td { border: 1px solid #ddd; padding: 4px 7px; vertical-align: top; }
        th { background: #f0f3f7; text-align: left; white-space: nowrap; }
        th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        tbody tr:nth-child(even) { background: #fafafa; }
        td.errors { color: #b00020; font-weight: 600; }
        a { color: #0a58ca; }
        section.scenario { border-top: 1px solid #e5e5e5; margin-top: 1.6em; }
        ul.notes { background: #fff8e1; border-left: 3px solid #e6a700; padding: 6px 10px 6px 28px; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        svg { max-width: 100%; height: auto; border: 1px solid #eee; background: #fff; }
        """;

    /// <summary>The HTML document for <paramref name="report"/>.</summary>
    /// <param name="report">The run to show.</param>
    /// <returns>HTML5; every string from the report is escaped, and each <c>&lt;svg&gt;</c> is well-formed XML.</returns>
    public static string Write(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        html.Append("<title>").Append(E(report.Title)).Append("</title>\n");
        html.Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n");

        html.Append("<h1>").Append(E(report.Title)).Append("</h1>\n");
        html.Append("<dl class=\"facts\">\n");
        Fact(html, "When", MarkdownReport.When(report.Started));
        Fact(html, "Machine", report.Machine);
        html.Append("</dl>\n");
        html.Append("<h2>Command</h2>\n<pre><code>").Append(E(report.Command.TrimEnd('\n', '\r'))).Append("</code></pre>\n");

        if (report.Method.Count > 0)
        {
            html.Append("<h2>Method</h2>\n");
            foreach (var paragraph in report.Method)
            {
                html.Append("<p>").Append(E(paragraph)).Append("</p>\n");
            }
        }

        // Anchors by position: keys are free text and need not make valid, unique ids.
        var anchors = new Dictionary<ScenarioOutcome, string>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < report.Scenarios.Count; i++)
        {
            anchors.TryAdd(report.Scenarios[i], Anchor(i));
        }

        var groups = MarkdownReport.Groups(report);
        html.Append("<h2>Summary</h2>\n");
        if (groups.Count == 0)
        {
            html.Append("<p>No scenarios were run.</p>\n");
        }

        foreach (var (group, scenarios) in groups)
        {
            html.Append("<h3>").Append(E(MarkdownReport.Heading(group))).Append("</h3>\n");
            html.Append("<p class=\"explain\">").Append(E(MarkdownReport.Explanation(group))).Append("</p>\n");
            SummaryTable(html, scenarios, anchors);
        }

        Comparisons(html, report);

        if (report.Scenarios.Count > 0)
        {
            html.Append("<h2>Scenarios</h2>\n");
        }

        for (var i = 0; i < report.Scenarios.Count; i++)
        {
            Scenario(html, report.Scenarios[i], Anchor(i));
        }

        html.Append("</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void SummaryTable(StringBuilder html, IReadOnlyList<ScenarioOutcome> scenarios, Dictionary<ScenarioOutcome, string> anchors)
    {
        html.Append("<div class=\"table-wrap\"><table>\n<thead><tr>");
        for (var i = 0; i < MarkdownReport.Columns.Count; i++)
        {
            html.Append(i < MarkdownReport.TextColumns ? "<th>" : "<th class=\"num\">").Append(E(MarkdownReport.Columns[i])).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var scenario in scenarios)
        {
            var cells = MarkdownReport.Row(scenario);
            html.Append("<tr>");
            for (var i = 0; i < cells.Count; i++)
            {
                if (i == 0)
                {
                    // The system links to the scenario's charts; the key is its tooltip.
                    html.Append("<td><a href=\"#").Append(anchors[scenario]).Append("\" title=\"").Append(E(scenario.Key)).Append("\">")
                        .Append(E(cells[i])).Append("</a></td>");
                }
                else if (i < MarkdownReport.TextColumns)
                {
                    html.Append("<td>").Append(E(cells[i])).Append("</td>");
                }
                else
                {
                    var errors = i == cells.Count - 1 && scenario.Errors > 0;
                    html.Append(errors ? "<td class=\"num errors\">" : "<td class=\"num\">").Append(E(cells[i])).Append("</td>");
                }
            }

            html.Append("</tr>\n");
        }

        html.Append("</tbody>\n</table></div>\n");
    }

    /// <summary>
    /// Bar charts across systems and targets: records/s of the closed-loop scenarios (what each
    /// sustains at most) and p99 of the open-loop ones (how each copes at a given rate). Ramps and
    /// end-to-end runs are left out: a single figure of theirs is not comparable with the others.
    /// </summary>
    private static void Comparisons(StringBuilder html, LoadReport report)
    {
        var closed = report.Scenarios.Where(s => MarkdownReport.GroupOf(s) == MarkdownReport.ScenarioGroup.ClosedLoop).ToList();
        var open = report.Scenarios.Where(s => MarkdownReport.GroupOf(s) == MarkdownReport.ScenarioGroup.OpenLoop).ToList();
        if (closed.Count == 0 && open.Count == 0)
        {
            return;
        }

        // One colour per system across both charts, so the same system reads the same everywhere.
        var systems = report.Scenarios.Select(s => s.System).Distinct(StringComparer.Ordinal).ToList();
        string ColorOf(string system) => SvgChart.Palette[systems.IndexOf(system) % SvgChart.Palette.Count];

        html.Append("<h2>Comparison</h2>\n<div class=\"charts\">\n");
        if (closed.Count > 0)
        {
            var bars = closed.Select(s => new SvgChart.Bar(s.Key, s.RecordsPerSecond, ColorOf(s.System), MarkdownReport.Describe(s))).ToList();
            html.Append(SvgChart.Bars("Maximum throughput (closed loop)", "records/s", bars, MarkdownReport.Rate, Legend(closed, ColorOf), Compact)).Append('\n');
        }

        if (open.Count > 0)
        {
            var bars = open.Select(s => new SvgChart.Bar(s.Key, s.Latency.P99, ColorOf(s.System), MarkdownReport.Describe(s))).ToList();
            html.Append(SvgChart.Bars("p99 latency at a fixed offered rate (open loop)", "p99 latency (ms)", bars, v => MarkdownReport.Milliseconds(v) + " ms", Legend(open, ColorOf), LatencyTick)).Append('\n');
        }

        html.Append("</div>\n");
    }

    private static List<(string Name, string Color)> Legend(IEnumerable<ScenarioOutcome> scenarios, Func<string, string> colorOf) =>
        [.. scenarios.Select(s => s.System).Distinct(StringComparer.Ordinal).Select(system => (system, colorOf(system)))];

    private static void Scenario(StringBuilder html, ScenarioOutcome s, string anchor)
    {
        html.Append("<section class=\"scenario\" id=\"").Append(anchor).Append("\">\n");
        html.Append("<h3><code>").Append(E(s.Key)).Append("</code></h3>\n");
        html.Append("<p>").Append(E(MarkdownReport.Describe(s))).Append("</p>\n");
        html.Append("<dl class=\"facts\">\n");
        Fact(html, "Measured", MarkdownReport.Seconds(s.Measured) + " after " + MarkdownReport.Seconds(s.Warmup) + " of warm-up");
        if (s.OfferedRecordsPerSecond > 0)
        {
            Fact(html, "Offered", MarkdownReport.Rate(s.OfferedRecordsPerSecond) + " records/s");
        }

        Fact(html, "Achieved", MarkdownReport.Rate(s.RecordsPerSecond) + " records/s, " + MarkdownReport.Rate(s.MegabytesPerSecond) + " MB/s");
        Fact(html, "Completed", MarkdownReport.Count(s.Records) + " records of " + MarkdownReport.Count(s.RecordBytes) + " B in " + MarkdownReport.Count(s.Operations) + " operations, " + MarkdownReport.Count(s.Errors) + " errors");
        Fact(html, "Latency (ms)", string.Create(CultureInfo.InvariantCulture, $"p50 {MarkdownReport.Milliseconds(s.Latency.P50)}, p90 {MarkdownReport.Milliseconds(s.Latency.P90)}, p99 {MarkdownReport.Milliseconds(s.Latency.P99)}, p99.9 {MarkdownReport.Milliseconds(s.Latency.P999)}, max {MarkdownReport.Milliseconds(s.Latency.Max)}, mean {MarkdownReport.Milliseconds(s.Latency.Mean)} over {MarkdownReport.Count(s.Latency.Count)}"));
        html.Append("</dl>\n");

        if (s.Notes.Count > 0)
        {
            html.Append("<ul class=\"notes\">\n");
            foreach (var note in s.Notes)
            {
                html.Append("<li>").Append(E(note)).Append("</li>\n");
            }

            html.Append("</ul>\n");
        }

        html.Append("<div class=\"charts\">\n");
        html.Append(ThroughputChart(s)).Append('\n');
        html.Append(LatencyChart(s)).Append('\n');
        html.Append("</div>\n</section>\n");
    }

    private static string ThroughputChart(ScenarioOutcome s)
    {
        var series = new List<SvgChart.Series>
        {
            new("records/s", [.. s.Timeline.Select(p => (p.Second, p.RecordsPerSecond))], SvgChart.Palette[0]),
        };

        // A constant offered rate is the line the achieved rate should sit on; a ramp's offered rate
        // changes over the run and only its end is known, so it gets no line.
        if (s.OfferedRecordsPerSecond > 0 && s.Timeline.Count > 0 && MarkdownReport.GroupOf(s) == MarkdownReport.ScenarioGroup.OpenLoop)
        {
            series.Add(new("offered", [(s.Timeline.Min(p => p.Second), s.OfferedRecordsPerSecond), (s.Timeline.Max(p => p.Second), s.OfferedRecordsPerSecond)], SvgChart.Palette[3], Dashed: true));
        }

        return SvgChart.Line("Throughput: " + s.Key, "seconds since the measurement began", "records/s", series, logY: false, Compact);
    }

    private static string LatencyChart(ScenarioOutcome s)
    {
        // A log axis: p50 and max routinely differ by a factor of 100 or more, which on a linear axis
        // flattens everything but the max into the floor.
        var series = new List<SvgChart.Series>
        {
            new("p50", [.. s.Timeline.Select(p => (p.Second, p.Latency.P50))], SvgChart.Palette[0]),
            new("p99", [.. s.Timeline.Select(p => (p.Second, p.Latency.P99))], SvgChart.Palette[1]),
            new("p99.9", [.. s.Timeline.Select(p => (p.Second, p.Latency.P999))], SvgChart.Palette[2]),
            new("max", [.. s.Timeline.Select(p => (p.Second, p.Latency.Max))], SvgChart.Palette[3]),
        };
        return SvgChart.Line("Latency per interval: " + s.Key, "seconds since the measurement began", "latency (log scale)", series, logY: true, LatencyTick);
    }

    /// <summary>A latency tick: <c>0.1 ms</c>, <c>1 ms</c>, <c>100 ms</c>, and seconds from one second up (<c>1 s</c>, <c>10 s</c>).</summary>
    private static string LatencyTick(double milliseconds) => milliseconds >= 1000
        ? (milliseconds / 1000).ToString("#,0.###", CultureInfo.InvariantCulture) + " s"
        : milliseconds.ToString("#,0.######", CultureInfo.InvariantCulture) + " ms";

    /// <summary>A rate tick, short enough for an axis: <c>800</c>, <c>2.5k</c>, <c>20k</c>, <c>1.5M</c>.</summary>
    private static string Compact(double value) => Math.Abs(value) switch
    {
        >= 1e9 => (value / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("#,0.##", CultureInfo.InvariantCulture),
    };

    private static string Anchor(int index) => "scenario-" + (index + 1).ToString(CultureInfo.InvariantCulture);

    private static void Fact(StringBuilder html, string name, string value) =>
        html.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(value)).Append("</dd>\n");

    private static string E(string text) => SvgChart.Escape(text);
}
