using System.Globalization;
using System.Text;

namespace Streams.Load.Reporting;

/// <summary>
/// Small self-contained SVG charts (no scripts, no external fonts or styles), so a report opens
/// offline in any browser and stays a single file: line charts of several series on a linear or
/// logarithmic y axis, and horizontal bar charts. Every string that comes from data is escaped, and
/// the output is well-formed XML, so it can also be embedded in XHTML or parsed by tests.
/// </summary>
internal static class SvgChart
{
    /// <summary>Colours that stay distinguishable for the common forms of colour blindness (Okabe–Ito).</summary>
    public static IReadOnlyList<string> Palette { get; } = ["#0072b2", "#e69f00", "#d55e00", "#555555", "#009e73", "#cc79a7", "#56b4e9", "#f0e442"];

    private const int Width = 720;
    private const double PlotTop = 40;
    private const double PlotLeft = 76;
    private const double PlotRight = 24;
    private const double PlotHeight = 200;
    private const string Font = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" font-size=\"12\"";

    /// <summary>One line of a line chart.</summary>
    /// <param name="Name">Shown in the legend.</param>
    /// <param name="Points">The points in x order; a NaN or infinite y (or, on a log axis, one at or below zero) leaves a gap.</param>
    /// <param name="Color">A CSS colour.</param>
    /// <param name="Dashed">Drawn dashed, for reference lines such as an offered rate.</param>
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points, string Color, bool Dashed = false);

    /// <summary>One bar of a bar chart.</summary>
    /// <param name="Label">Shown beside the bar (shortened with an ellipsis when long; the whole label is its tooltip).</param>
    /// <param name="Value">Its length; NaN draws no bar and says so.</param>
    /// <param name="Color">A CSS colour.</param>
    /// <param name="Tooltip">Extra text for the tooltip, such as what the label abbreviates.</param>
    public sealed record Bar(string Label, double Value, string Color, string? Tooltip = null);

    /// <summary>
    /// A line chart: a title, a frame with gridlines and labelled ticks on both axes, axis labels, one
    /// line per series (broken at gaps, with a dot for a point that has no neighbour to join), and a legend.
    /// With no plottable point it draws the frame and says "no data", so a report's layout does not
    /// depend on the data.
    /// </summary>
    /// <param name="title">Drawn above the plot.</param>
    /// <param name="xLabel">Under the x axis.</param>
    /// <param name="yLabel">Beside the y axis.</param>
    /// <param name="series">The lines, drawn in order (the last on top).</param>
    /// <param name="logY">A base-10 logarithmic y axis with a labelled gridline at each power of ten, for data that spans decades.</param>
    /// <param name="formatY">Labels a y tick.</param>
    /// <param name="formatX">Labels an x tick; plain numbers when null.</param>
    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY, Func<double, string> formatY, Func<double, string>? formatX = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(formatY);
        formatX ??= FormatTick;
        var height = PlotTop + PlotHeight + 70;
        var plotWidth = Width - PlotLeft - PlotRight;
        var plotBottom = PlotTop + PlotHeight;
        var svg = Open(title, Width, height);

        bool Plottable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logY || y > 0);

        var xs = series.SelectMany(s => s.Points).Where(p => Plottable(p.X, p.Y)).Select(p => p.X).ToList();
        var ys = series.SelectMany(s => s.Points).Where(p => Plottable(p.X, p.Y)).Select(p => p.Y).ToList();

        svg.Append(Invariant($"<rect x=\"{PlotLeft:0.#}\" y=\"{PlotTop:0.#}\" width=\"{plotWidth:0.#}\" height=\"{PlotHeight:0.#}\" fill=\"#fcfcfc\" stroke=\"#999\"/>\n"));
        if (xs.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{PlotLeft + (plotWidth / 2):0.#}\" y=\"{PlotTop + (PlotHeight / 2):0.#}\" text-anchor=\"middle\" fill=\"#777\">no data</text>\n"));
            AxisLabels(svg, xLabel, yLabel, plotBottom);
            return Close(svg);
        }

        // x: seconds since the measurement began, so start at 0 unless the data goes below it.
        var (xLow, xHigh, xTicks) = LinearAxis(Math.Min(0, xs.Min()), xs.Max(), 8);
        double ToX(double x) => PlotLeft + ((x - xLow) / (xHigh - xLow) * plotWidth);

        double yLow, yHigh;
        Func<double, double> scale;
        var yTicks = new List<(double Value, bool Labelled)>();
        if (logY)
        {
            // Whole decades, so every labelled gridline is a power of ten.
            var lowExponent = Math.Floor(Math.Log10(ys.Min()));
            var highExponent = Math.Ceiling(Math.Log10(ys.Max()));
            if (highExponent <= lowExponent)
            {
                highExponent = lowExponent + 1;
            }

            yLow = Math.Pow(10, lowExponent);
            yHigh = Math.Pow(10, highExponent);
            scale = Math.Log10;
            var decades = (int)(highExponent - lowExponent);

            // Label at most about six decades; past that the labels would crowd each other.
            var labelEvery = Math.Max(1, (int)Math.Ceiling(decades / 6.0));
            for (var e = 0; e <= decades; e++)
            {
                var decade = Math.Pow(10, lowExponent + e);
                yTicks.Add((decade, e % labelEvery == 0));
                if (decades <= 4 && e < decades)
                {
                    // Unlabelled 2× and 5× lines help read values between decades.
                    yTicks.Add((decade * 2, false));
                    yTicks.Add((decade * 5, false));
                }
            }
        }
        else
        {
            // Rates are read against zero: a y axis that starts elsewhere exaggerates dips.
            var (low, high, ticks) = LinearAxis(Math.Min(0, ys.Min()), ys.Max(), 5);
            yLow = low;
            yHigh = high;
            scale = v => v;
            yTicks.AddRange(ticks.Select(t => (t, true)));
        }

        double ToY(double y) => plotBottom - ((scale(y) - scale(yLow)) / (scale(yHigh) - scale(yLow)) * PlotHeight);

        svg.Append("<g stroke-width=\"1\">\n");
        foreach (var (value, labelled) in yTicks)
        {
            var y = ToY(value);
            svg.Append(Invariant($"<line x1=\"{PlotLeft:0.#}\" y1=\"{y:0.##}\" x2=\"{PlotLeft + plotWidth:0.#}\" y2=\"{y:0.##}\" stroke=\"{(labelled ? "#d0d0d0" : "#ececec")}\"/>\n"));
            if (labelled)
            {
                svg.Append(Invariant($"<text x=\"{PlotLeft - 6:0.#}\" y=\"{y + 4:0.##}\" text-anchor=\"end\" fill=\"#333\">{Escape(formatY(value))}</text>\n"));
            }
        }

        foreach (var tick in xTicks)
        {
            var x = ToX(tick);
            svg.Append(Invariant($"<line x1=\"{x:0.##}\" y1=\"{PlotTop:0.#}\" x2=\"{x:0.##}\" y2=\"{plotBottom:0.#}\" stroke=\"#e4e4e4\"/>\n"));
            svg.Append(Invariant($"<line x1=\"{x:0.##}\" y1=\"{plotBottom:0.#}\" x2=\"{x:0.##}\" y2=\"{plotBottom + 5:0.#}\" stroke=\"#999\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x:0.##}\" y=\"{plotBottom + 18:0.#}\" text-anchor=\"middle\" fill=\"#333\">{Escape(formatX(tick))}</text>\n"));
        }

        svg.Append("</g>\n");

        foreach (var line in series)
        {
            AppendSeries(svg, line, Plottable, ToX, ToY);
        }

        AxisLabels(svg, xLabel, yLabel, plotBottom);
        AppendLegend(svg, series.Select(s => (s.Name, s.Color, s.Dashed)).ToList(), PlotLeft, plotBottom + 56);
        return Close(svg);
    }

    /// <summary>
    /// A horizontal bar chart (one row per bar, so long labels stay readable): a title, the labels
    /// on the left, each value written at the end of its bar, a value axis from zero with gridlines
    /// and labelled ticks, and an optional legend (such as which colour is which system).
    /// </summary>
    /// <param name="title">Drawn above the bars.</param>
    /// <param name="valueLabel">Under the value axis.</param>
    /// <param name="bars">The bars, top to bottom.</param>
    /// <param name="formatValue">Labels a tick and the value at the end of each bar.</param>
    /// <param name="legend">Legend entries, or null for none.</param>
    /// <param name="formatTick">Labels a tick on the value axis, where there is less room than at a bar's end; <paramref name="formatValue"/> when null.</param>
    public static string Bars(string title, string valueLabel, IReadOnlyList<Bar> bars, Func<double, string> formatValue, IReadOnlyList<(string Name, string Color)>? legend = null, Func<double, string>? formatTick = null)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentNullException.ThrowIfNull(formatValue);
        formatTick ??= formatValue;
        const double RowHeight = 24;
        const double BarHeight = 16;
        const double ValueRoom = 80;
        var longest = bars.Count == 0 ? 0 : bars.Max(b => TextWidth(b.Label));
        var labelRoom = Math.Clamp(longest + 28, 80, 340);
        var plotLeft = labelRoom;
        var plotWidth = Width - plotLeft - ValueRoom;
        var plotHeight = Math.Max(1, bars.Count) * RowHeight;
        var plotBottom = PlotTop + plotHeight;
        var height = plotBottom + 48 + (legend is { Count: > 0 } ? 24 : 0);
        var svg = Open(title, Width, height);

        var values = bars.Select(b => b.Value).Where(double.IsFinite).ToList();
        if (values.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"{PlotTop + (plotHeight / 2) + 4:0.#}\" text-anchor=\"middle\" fill=\"#777\">no data</text>\n"));
            return Close(svg);
        }

        var (low, high, ticks) = LinearAxis(Math.Min(0, values.Min()), values.Max(), 6);
        double ToX(double v) => plotLeft + ((v - low) / (high - low) * plotWidth);

        foreach (var tick in ticks)
        {
            var x = ToX(tick);
            svg.Append(Invariant($"<line x1=\"{x:0.##}\" y1=\"{PlotTop:0.#}\" x2=\"{x:0.##}\" y2=\"{plotBottom:0.#}\" stroke=\"#e0e0e0\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x:0.##}\" y=\"{plotBottom + 16:0.#}\" text-anchor=\"middle\" fill=\"#333\">{Escape(formatTick(tick))}</text>\n"));
        }

        svg.Append(Invariant($"<line x1=\"{plotLeft:0.#}\" y1=\"{PlotTop:0.#}\" x2=\"{plotLeft:0.#}\" y2=\"{plotBottom:0.#}\" stroke=\"#999\"/>\n"));
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var rowTop = PlotTop + (i * RowHeight);
            var middle = rowTop + (RowHeight / 2) + 4;
            var label = Shorten(bar.Label, labelRoom - 27.5);
            var tooltip = bar.Tooltip is null ? bar.Label : bar.Label + "\n" + bar.Tooltip;
            svg.Append("<g>");
            svg.Append("<title>").Append(Escape(tooltip)).Append(": ").Append(Escape(double.IsFinite(bar.Value) ? formatValue(bar.Value) : "no data")).Append("</title>");
            svg.Append(Invariant($"<text x=\"{plotLeft - 8:0.#}\" y=\"{middle:0.#}\" text-anchor=\"end\" fill=\"#222\">{Escape(label)}</text>"));
            if (double.IsFinite(bar.Value))
            {
                var x0 = ToX(Math.Min(0, bar.Value));
                var x1 = ToX(Math.Max(0, bar.Value));
                svg.Append(Invariant($"<rect x=\"{x0:0.##}\" y=\"{rowTop + ((RowHeight - BarHeight) / 2):0.#}\" width=\"{Math.Max(0.5, x1 - x0):0.##}\" height=\"{BarHeight:0.#}\" fill=\"{Escape(bar.Color)}\"/>"));
                svg.Append(Invariant($"<text x=\"{x1 + 4:0.##}\" y=\"{middle:0.#}\" fill=\"#222\">{Escape(formatValue(bar.Value))}</text>"));
            }
            else
            {
                svg.Append(Invariant($"<text x=\"{ToX(0) + 4:0.##}\" y=\"{middle:0.#}\" fill=\"#777\">no data</text>"));
            }

            svg.Append("</g>\n");
        }

        svg.Append(Invariant($"<text x=\"{plotLeft + (plotWidth / 2):0.#}\" y=\"{plotBottom + 36:0.#}\" text-anchor=\"middle\" fill=\"#333\">{Escape(valueLabel)}</text>\n"));
        if (legend is { Count: > 0 })
        {
            AppendLegend(svg, legend.Select(l => (l.Name, l.Color, false)).ToList(), plotLeft, plotBottom + 60);
        }

        return Close(svg);
    }

    /// <summary>
    /// Escapes text for XML and HTML content and attribute values (<c>&amp; &lt; &gt; &quot; &#39;</c>),
    /// and replaces characters XML 1.0 forbids (control characters, unpaired surrogates) with U+FFFD,
    /// so data can never break the markup or inject elements.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var escaped = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '&':
                    escaped.Append("&amp;");
                    break;
                case '<':
                    escaped.Append("&lt;");
                    break;
                case '>':
                    escaped.Append("&gt;");
                    break;
                case '"':
                    escaped.Append("&quot;");
                    break;
                case '\'':
                    escaped.Append("&#39;");
                    break;
                case '\t' or '\n' or '\r':
                    escaped.Append(c);
                    break;
                case < ' ' or '\uFFFE' or '\uFFFF':
                    escaped.Append('\uFFFD');
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        escaped.Append(c).Append(text[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        escaped.Append('\uFFFD');
                    }
                    else
                    {
                        escaped.Append(c);
                    }

                    break;
            }
        }

        return escaped.ToString();
    }

    /// <summary>
    /// A linear axis over [<paramref name="min"/>, <paramref name="max"/>] widened to whole steps of
    /// 1, 2 or 5 × 10^n, with about <paramref name="targetTicks"/> ticks: round tick values are easier
    /// to read than exact extremes.
    /// </summary>
    internal static (double Low, double High, IReadOnlyList<double> Ticks) LinearAxis(double min, double max, int targetTicks)
    {
        if (max <= min)
        {
            // One value (or all equal): give it room rather than divide by zero.
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.5;
            max = min + pad;
            min = min >= 0 ? Math.Max(0, min - pad) : min - pad;
        }

        var rough = (max - min) / targetTicks;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var normalized = rough / magnitude;
        var step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
        var low = Math.Floor(min / step) * step;
        var high = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        var count = (int)Math.Round((high - low) / step);
        for (var i = 0; i <= count; i++)
        {
            // Multiplying rather than adding keeps 0.1-style steps from drifting (0.30000000000000004).
            ticks.Add(Math.Round(low + (i * step), 12));
        }

        return (low, high, ticks);
    }

    private static void AppendSeries(StringBuilder svg, Series line, Func<double, double, bool> plottable, Func<double, double> toX, Func<double, double> toY)
    {
        var path = new StringBuilder();
        var dots = new List<(double X, double Y)>();
        var points = line.Points;
        for (var i = 0; i < points.Count; i++)
        {
            var (x, y) = points[i];
            if (!plottable(x, y))
            {
                continue;
            }

            var joinsPrevious = i > 0 && plottable(points[i - 1].X, points[i - 1].Y);
            var joinsNext = i + 1 < points.Count && plottable(points[i + 1].X, points[i + 1].Y);
            if (!joinsPrevious && !joinsNext)
            {
                // A point between two gaps has no segment: without a dot it would vanish.
                dots.Add((toX(x), toY(y)));
                continue;
            }

            path.Append(joinsPrevious ? " L" : (path.Length == 0 ? "M" : " M"));
            path.Append(Invariant($"{toX(x):0.##},{toY(y):0.##}"));
        }

        svg.Append("<g>");
        svg.Append("<title>").Append(Escape(line.Name)).Append("</title>");
        var dash = line.Dashed ? " stroke-dasharray=\"6 4\"" : string.Empty;
        if (path.Length > 0)
        {
            svg.Append(Invariant($"<path d=\"{path}\" fill=\"none\" stroke=\"{Escape(line.Color)}\" stroke-width=\"1.6\" stroke-linejoin=\"round\"{dash}/>"));
        }

        foreach (var (x, y) in dots)
        {
            svg.Append(Invariant($"<circle cx=\"{x:0.##}\" cy=\"{y:0.##}\" r=\"2.2\" fill=\"{Escape(line.Color)}\"/>"));
        }

        svg.Append("</g>\n");
    }

    private static void AxisLabels(StringBuilder svg, string xLabel, string yLabel, double plotBottom)
    {
        var plotWidth = Width - PlotLeft - PlotRight;
        var middle = PlotTop + (PlotHeight / 2);
        svg.Append(Invariant($"<text x=\"{PlotLeft + (plotWidth / 2):0.#}\" y=\"{plotBottom + 36:0.#}\" text-anchor=\"middle\" fill=\"#333\">{Escape(xLabel)}</text>\n"));
        svg.Append(Invariant($"<text x=\"14\" y=\"{middle:0.#}\" transform=\"rotate(-90 14 {middle:0.#})\" text-anchor=\"middle\" fill=\"#333\">{Escape(yLabel)}</text>\n"));
    }

    private static void AppendLegend(StringBuilder svg, IReadOnlyList<(string Name, string Color, bool Dashed)> entries, double left, double y)
    {
        var x = left;
        foreach (var (name, color, dashed) in entries)
        {
            var dash = dashed ? " stroke-dasharray=\"6 4\"" : string.Empty;
            svg.Append(Invariant($"<line x1=\"{x:0.#}\" y1=\"{y - 4:0.#}\" x2=\"{x + 20:0.#}\" y2=\"{y - 4:0.#}\" stroke=\"{Escape(color)}\" stroke-width=\"3\"{dash}/>"));
            svg.Append(Invariant($"<text x=\"{x + 26:0.#}\" y=\"{y:0.#}\" fill=\"#222\">{Escape(name)}</text>\n"));
            x += 26 + TextWidth(name) + 18;
        }
    }

    /// <summary>
    /// An estimate of the width of 12 px sans-serif text: SVG cannot measure text without a script,
    /// so room for labels is reserved from rough per-glyph widths (generous, to avoid clipping).
    /// </summary>
    internal static double TextWidth(string text)
    {
        double width = 0;
        foreach (var c in text)
        {
            width += c switch
            {
                'i' or 'l' or 'j' or 't' or 'f' or 'r' or '.' or ',' or ':' or ';' or '\'' or '|' or '!' or ' ' or '(' or ')' or '[' or ']' or '-' => 4.2,
                'm' or 'w' or 'M' or 'W' or '@' or '…' => 10.5,
                (>= 'A' and <= 'Z') or '<' or '>' or '&' or '%' or '#' or '=' or '+' or '~' or '_' => 8.4,
                _ => 7,
            };
        }

        return width;
    }

    /// <summary>The text, or as much of its start as fits in <paramref name="room"/> followed by an ellipsis.</summary>
    private static string Shorten(string text, double room)
    {
        if (TextWidth(text) <= room)
        {
            return text;
        }

        var length = text.Length;
        while (length > 1 && TextWidth(text[..length]) + TextWidth("…") > room)
        {
            length--;
        }

        return text[..length] + "…";
    }

    private static StringBuilder Open(string title, double width, double height)
    {
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:0.#} {height:0.#}\" width=\"{width:0.#}\" height=\"{height:0.#}\" role=\"img\" aria-label=\"{Escape(title)}\" {Font}>\n"));
        svg.Append("<title>").Append(Escape(title)).Append("</title>\n");
        svg.Append(Invariant($"<text x=\"{width / 2:0.#}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\" fill=\"#111\">{Escape(title)}</text>\n"));
        return svg;
    }

    private static string Close(StringBuilder svg) => svg.Append("</svg>").ToString();

    /// <summary>Plain tick numbers: no more decimals than the tick needs.</summary>
    private static string FormatTick(double value) => value.ToString("#,0.###", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
