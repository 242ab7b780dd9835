using System.Text.RegularExpressions;
using System.Xml.Linq;
using Streams.Load.Reporting;

namespace Streams.Load.Tests;

public sealed partial class ReportWritersTests
{
    private const string Nasty = "<b>&\"'";

    [Fact]
    public void Markdown_has_the_table_header_and_one_row_per_scenario_with_formatted_figures()
    {
        var report = Sample();
        var md = MarkdownReport.Write(report);

        const string Header = "| system | target | workload | profile | guarantee | records/s | MB/s | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | errors |";
        Assert.Contains(Header, md, StringComparison.Ordinal);
        // Each group has its own table: skip the repeated header and the alignment lines.
        var rows = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && l != Header && !l.StartsWith("| --- |", StringComparison.Ordinal)).ToList();
        Assert.Equal(report.Scenarios.Count, rows.Count);

        // Thousands separators, three significant figures for milliseconds, "—" for NaN.
        Assert.Contains(rows, r => r.StartsWith("| Streams | 3 nodes, RF 3, durability always |", StringComparison.Ordinal)
            && r.EndsWith("| 123,457 | 12.3 | 1.23 | 4.57 | 23.5 | 87.7 | 1,235 | 0 |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.EndsWith("| 0 | 0 | — | — | — | — | — | 1,234 |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.EndsWith("| 19,876 | 1.99 | 0.412 | 0.9 | 3.21 | 12 | 45.7 | 0 |", StringComparison.Ordinal));
        Assert.Contains("**When:** 2025-03-04 05:06:07 UTC+00:00", md, StringComparison.Ordinal);
        Assert.Contains("```text\nstreams-load streams --duration 60s\n```", md, StringComparison.Ordinal);
        Assert.Contains("Latency counts from the intended start.", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_groups_by_pacing_in_a_fixed_order_and_escapes_the_data()
    {
        var md = MarkdownReport.Write(Sample());
        var headings = md.Split('\n').Where(l => l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        string[] expected =
            ["## Method", "## Maximum throughput (closed loop)", "## Latency at a fixed offered rate (open loop)", "## Ramps (offered rate rising)", "## End to end (put to delivery)", "## Notes"];
        Assert.Equal(expected, headings);

        // Only code spans (where Markdown shows text literally) may hold the data's markup as is.
        Assert.DoesNotContain(md.Split('\n').Where(l => !l.StartsWith("### `", StringComparison.Ordinal)), l => l.Contains("<b>", StringComparison.Ordinal));
        Assert.Contains("NATS \\<b\\>\\&\"'", md, StringComparison.Ordinal);
        Assert.Contains("RF 3 \\| sync", md, StringComparison.Ordinal);
        Assert.Contains("### `e2e-" + Nasty + "`", md, StringComparison.Ordinal);
        Assert.Contains("- Nothing was delivered: \\<script\\>", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Grouping_rule_is_keywords_first_then_ramp_then_offered_rate()
    {
        var s = Sample().Scenarios;
        Assert.Equal(MarkdownReport.ScenarioGroup.ClosedLoop, MarkdownReport.GroupOf(s[0]));
        Assert.Equal(MarkdownReport.ScenarioGroup.OpenLoop, MarkdownReport.GroupOf(s[1]));
        Assert.Equal(MarkdownReport.ScenarioGroup.EndToEnd, MarkdownReport.GroupOf(s[2]));
        Assert.Equal(MarkdownReport.ScenarioGroup.Ramp, MarkdownReport.GroupOf(s[3]));
        Assert.Equal(MarkdownReport.ScenarioGroup.OpenLoop, MarkdownReport.GroupOf(s[0] with { Profile = "fixed", OfferedRecordsPerSecond = 5 }));
        Assert.Equal(MarkdownReport.ScenarioGroup.EndToEnd, MarkdownReport.GroupOf(s[3] with { Workload = "End-to-end delivery" }));
    }

    [Theory]
    [InlineData(double.NaN, "—")]
    [InlineData(0.0, "0")]
    [InlineData(0.01234, "0.0123")]
    [InlineData(0.1234, "0.123")]
    [InlineData(1.234, "1.23")]
    [InlineData(12.34, "12.3")]
    [InlineData(123.4, "123")]
    [InlineData(1234567.8, "1,234,568")]
    public void Milliseconds_have_about_three_significant_figures(double value, string expected) =>
        Assert.Equal(expected, MarkdownReport.Milliseconds(value));

    [Fact]
    public void Json_round_trips_to_an_equal_report()
    {
        var report = Sample();
        var json = JsonReport.Write(report);
        var back = JsonReport.Read(json);

        Assert.Equal(report.Title, back.Title);
        Assert.Equal(report.Started, back.Started);
        Assert.Equal(report.Started.Offset, back.Started.Offset);
        Assert.Equal(report.Machine, back.Machine);
        Assert.Equal(report.Command, back.Command);
        Assert.Equal(report.Method, back.Method);
        Assert.Equal(report.Scenarios.Count, back.Scenarios.Count);
        for (var i = 0; i < report.Scenarios.Count; i++)
        {
            var (a, b) = (report.Scenarios[i], back.Scenarios[i]);

            // Records compare lists by reference: compare those by content, and the rest as a record.
            Assert.True(a.Timeline.SequenceEqual(b.Timeline), a.Key);
            Assert.True(a.Notes.SequenceEqual(b.Notes), a.Key);
            Assert.Equal(a, b with { Timeline = a.Timeline, Notes = a.Notes });
            Assert.Equal(a.Latency, b.Latency);
            Assert.Equal(a.Measured, b.Measured);
            Assert.Equal(a.Warmup, b.Warmup);
        }

        // Written back, it is the same text: nothing was lost or reinterpreted.
        Assert.Equal(json, JsonReport.Write(back));
    }

    [Fact]
    public void Json_is_camel_case_with_null_for_nan_and_seconds_for_durations()
    {
        var json = JsonReport.Write(Sample());
        Assert.Contains("\"recordsPerSecond\": 123456.7", json, StringComparison.Ordinal);
        Assert.Contains("\"p50\": null", json, StringComparison.Ordinal);
        Assert.Contains("\"p999\": 87.66", json, StringComparison.Ordinal);
        Assert.Contains("\"measured\": 60", json, StringComparison.Ordinal);
        Assert.Contains("\"warmup\": 2.5", json, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", json, StringComparison.Ordinal);
        Assert.Throws<System.Text.Json.JsonException>(() => JsonReport.Read("{\"title\": \"x\"}"));
        Assert.Throws<System.Text.Json.JsonException>(() => JsonReport.Read("null"));
    }

    [Fact]
    public void Html_svgs_are_well_formed_and_there_are_no_scripts()
    {
        var report = Sample();
        var html = HtmlReport.Write(report);
        var svgs = Svgs(html);

        // Two timeline charts per scenario, and two comparisons (closed-loop records/s, open-loop p99).
        Assert.Equal((report.Scenarios.Count * 2) + 2, svgs.Count);
        foreach (var svg in svgs)
        {
            var document = XDocument.Parse(svg);
            Assert.Equal("svg", document.Root!.Name.LocalName);
            Assert.NotEmpty(Texts(document));
        }

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_shows_every_scenario_and_escapes_the_data()
    {
        var report = Sample();
        var html = HtmlReport.Write(report);
        foreach (var scenario in report.Scenarios)
        {
            Assert.Contains(SvgChart.Escape(scenario.Key), html, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
        Assert.Contains("e2e-&lt;b&gt;&amp;&quot;&#39;", html, StringComparison.Ordinal);
        Assert.Contains("Nothing was delivered: &lt;script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<th class=\"num\">p99.9 (ms)</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">1,235</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_latency_chart_has_a_log_axis_labelled_in_decades()
    {
        var html = HtmlReport.Write(Sample());
        var latency = Svgs(html).Select(XDocument.Parse).First(d => Title(d) == "Latency per interval: streams-3n-rf3-always-produce-100B-max");
        var labels = Texts(latency);

        // The data spans about 1 ms (p50) to a few hundred ms (max): one labelled gridline per decade.
        Assert.Contains("1 ms", labels);
        Assert.Contains("10 ms", labels);
        Assert.Contains("100 ms", labels);
        Assert.Contains("1 s", labels);
        Assert.DoesNotContain("50 ms", labels);
        foreach (var legend in new[] { "p50", "p99", "p99.9", "max" })
        {
            Assert.Contains(legend, labels);
        }

        // Seconds on x, up to the 60-point timeline's end.
        Assert.Contains("0", labels);
        Assert.Contains("60", labels);
        Assert.Contains("seconds since the measurement began", labels);
    }

    [Fact]
    public void Html_charts_handle_an_empty_timeline_and_gaps()
    {
        var html = HtmlReport.Write(Sample());
        var charts = Svgs(html).Select(XDocument.Parse).ToList();
        var empty = charts.Where(d => Title(d)!.EndsWith("e2e-" + Nasty, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, empty.Count);
        Assert.All(empty, d => Assert.Contains("no data", Texts(d)));

        // The ramp has an interval where nothing completed: its lines break there (a second move-to).
        var ramp = charts.Single(d => Title(d) == "Latency per interval: streams-ramp");
        var paths = ramp.Descendants().Where(e => e.Name.LocalName == "path").Select(e => (string)e.Attribute("d")!).ToList();
        Assert.Equal(4, paths.Count);
        Assert.All(paths, d => Assert.Equal(2, d.Count(c => c == 'M')));
        Assert.DoesNotContain(paths, d => d.Contains("NaN", StringComparison.Ordinal));
    }

    [Fact]
    public void Svg_line_chart_with_no_series_or_single_points_is_still_drawn()
    {
        var none = XDocument.Parse(SvgChart.Line("t", "x", "y", [], logY: true, v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("no data", Texts(none));

        // A point between gaps has no segment to draw, so it becomes a dot.
        var single = XDocument.Parse(SvgChart.Line("t", "x", "y", [new("s", [(0, 5), (1, double.NaN), (2, 7), (3, 8)], "#000")], logY: false, v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Single(single.Descendants(), e => e.Name.LocalName == "circle");
        Assert.Single(single.Descendants(), e => e.Name.LocalName == "path");
    }

    [Fact]
    public void Svg_linear_axis_uses_round_steps()
    {
        var (low, high, ticks) = SvgChart.LinearAxis(0, 123_456, 5);
        Assert.Equal(0, low);
        Assert.Equal(140_000, high);
        double[] expected = [0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 140_000];
        Assert.Equal(expected, ticks);

        var (_, _, small) = SvgChart.LinearAxis(0, 0.3, 3);
        double[] expectedSmall = [0, 0.1, 0.2, 0.3];
        Assert.Equal(expectedSmall, small);
    }

    [Fact]
    public void Svg_escape_covers_markup_and_characters_xml_forbids()
    {
        Assert.Equal("&lt;b&gt;&amp;&quot;&#39;", SvgChart.Escape(Nasty));
        Assert.Equal("a\uFFFDb\uFFFD", SvgChart.Escape("a\u0001b\uD800"));
        Assert.Equal("😀", SvgChart.Escape("😀"));
    }

    /// <summary>Writes the sample report where a person can open it (also regenerates it after a change).</summary>
    [Fact]
    public void Sample_report_is_written_for_a_look()
    {
        var report = Sample();
        var directory = Path.GetTempPath();
        File.WriteAllText(Path.Combine(directory, "load-report-sample.html"), HtmlReport.Write(report));
        File.WriteAllText(Path.Combine(directory, "load-report-sample.md"), MarkdownReport.Write(report));
        File.WriteAllText(Path.Combine(directory, "load-report-sample.json"), JsonReport.Write(report));
        Assert.True(File.Exists(Path.Combine(directory, "load-report-sample.html")));
    }

    private static List<string> Svgs(string html) => [.. SvgElement().Matches(html).Select(m => m.Value)];

    private static List<string> Texts(XDocument svg) =>
        [.. svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value)];

    private static string? Title(XDocument svg) => svg.Root!.Elements().FirstOrDefault(e => e.Name.LocalName == "title")?.Value;

    [GeneratedRegex("<svg[\\s\\S]*?</svg>", RegexOptions.CultureInvariant)]
    private static partial Regex SvgElement();

    /// <summary>
    /// Four scenarios, one per group: a closed loop with a 60-point timeline whose latency spans 1 ms
    /// to a few hundred, an open loop with escaping-hungry names, an end-to-end run where nothing
    /// completed (NaN latencies, empty timeline), and a ramp with an interval of no completions.
    /// </summary>
    internal static LoadReport Sample()
    {
        var closedTimeline = Enumerable.Range(1, 60).Select(i =>
        {
            var wave = Math.Sin(i / 6.0);
            var p50 = 1.3 + (0.4 * wave);
            return new TimelinePoint(i, 1_900 + (150 * wave), 121_000 + (9_000 * wave) + (i == 31 ? -60_000 : 0),
                new LatencySummary(p50, p50 * 3.5, 18 + (6 * wave), 70 + (20 * wave) + (i == 31 ? 300 : 0), 150 + (60 * wave) + (i == 31 ? 600 : 0), p50 * 1.4, 120_000));
        }).ToList();

        var openTimeline = Enumerable.Range(1, 30).Select(i =>
        {
            var jitter = (i % 7) * 0.03;
            return new TimelinePoint(i * 2, 9_950, 19_900 - (i % 3 * 40), new LatencySummary(0.38 + jitter, 0.85, 3 + jitter, 11 + (i % 5), 40 + i, 0.5, 39_800));
        }).ToList();

        var rampTimeline = Enumerable.Range(1, 12).Select(i => i == 6
            ? new TimelinePoint(i * 5, 0, 0, LatencySummary.Empty)
            : new TimelinePoint(i * 5, i * 300, i * 3_000, new LatencySummary(0.5 * i, 0.9 * i, 2 * i * i, 3 * i * i, 5 * i * i, 0.6 * i, i * 3_000L))).ToList();

        return new LoadReport(
            "Streams load run <sample>",
            new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero),
            "8 cores, 32 GB, Linux 6.8, .NET 10.0.0",
            "streams-load streams --duration 60s",
            [
                "Closed loop: each virtual producer sends its next request when the previous one is acknowledged.",
                "Open loop: requests start on a fixed schedule. Latency counts from the intended start.",
            ],
            [
                new ScenarioOutcome(
                    "streams-3n-rf3-always-produce-100B-max", "Streams", "3 nodes, RF 3, durability always", "SDK producer (Produce stream), 100 B records",
                    "closed loop, 64 virtual producers", "acked after a majority fsynced", 100, 0, 123_456.7, 12.3456, 115_000, 7_407_402, 0,
                    TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2.5), new LatencySummary(1.234, 4.567, 23.456, 87.66, 1234.56, 2.2, 115_000),
                    closedTimeline, ["Server GC, 2 heaps."]),
                new ScenarioOutcome(
                    "nats-" + Nasty + "-open-20k", "NATS " + Nasty, "3 nodes, RF 3 | sync", "JetStream publish, 100 B records",
                    "open loop 20,000 records/s", "acked after R3 stored", 100, 20_000, 19_876.4, 1.98764, 298_146, 596_292, 0,
                    TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2.5), new LatencySummary(0.4123, 0.9, 3.21, 12, 45.67, 0.6, 298_146),
                    openTimeline, []),
                new ScenarioOutcome(
                    "e2e-" + Nasty, "fake", "in process", "end-to-end, put to delivery", "closed loop, 1 producer",
                    "delivered once", 1_000, 0, 0, 0, 0, 0, 1_234,
                    TimeSpan.FromSeconds(10), TimeSpan.Zero, LatencySummary.Empty,
                    [], ["Nothing was delivered: <script>alert(1)</script>", "Every put failed & timed out."]),
                new ScenarioOutcome(
                    "streams-ramp", "Streams", "1 node, RF 1, durability never", "SDK producer, 1 KB records",
                    "ramp 1,000 to 40,000 records/s", "acked when in memory", 1_024, 40_000, 21_000, 21.504, 12_600, 1_260_000, 3,
                    TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), new LatencySummary(2.5, 5, 50, 150, 720, 4, 1_260_000),
                    rampTimeline, []),
            ]);
    }
}
