using System.Text;

namespace Streams.Load;

/// <summary>
/// A benchmark report laid out two ways: header lines (<c>name: value</c>), titled tables and
/// footer lines, as aligned text for the terminal or as Markdown.
/// </summary>
/// <param name="Header">The header lines; the first is the report's title line.</param>
/// <param name="Tables">The tables, each with its title.</param>
/// <param name="Footer">Lines after the tables.</param>
internal sealed record ReportDocument(IReadOnlyList<string> Header, IReadOnlyList<(string Title, ReportTable Table)> Tables, IReadOnlyList<string> Footer)
{
    /// <summary>Aligned text: the header, each table under its title, the footer.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var line in Header)
        {
            text.Append(line).Append('\n');
        }

        foreach (var (title, table) in Tables)
        {
            text.Append('\n').Append(title).Append('\n');
            AppendAligned(text, table);
        }

        text.Append('\n');
        foreach (var line in Footer)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Markdown: <paramref name="title"/>, the header lines after the first as a list of bold names,
    /// the tables, and the footer as paragraphs or, with <paramref name="footerAsCode"/>, one code block.
    /// </summary>
    public string ToMarkdown(string title, bool footerAsCode)
    {
        var text = new StringBuilder("# ").Append(title).Append("\n\n");
        foreach (var line in Header.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            text.Append("- **").Append(line[..colon]).Append("**: ").Append(line[(colon + 1)..].Trim()).Append('\n');
        }

        foreach (var (tableTitle, table) in Tables)
        {
            text.Append("\n## ").Append(tableTitle.TrimEnd(':')).Append("\n\n");
            text.Append("| ").Append(string.Join(" | ", table.Header)).Append(" |\n|");
            foreach (var right in table.RightAligned)
            {
                text.Append(right ? " ---: |" : " --- |");
            }

            text.Append('\n');
            foreach (var row in table.Rows)
            {
                text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            }
        }

        if (footerAsCode)
        {
            text.Append("\n```\n");
            foreach (var line in Footer)
            {
                text.Append(line).Append('\n');
            }

            text.Append("```\n");
        }
        else
        {
            text.Append('\n');
            foreach (var line in Footer)
            {
                text.Append(line).Append("\n\n");
            }
        }

        return text.ToString();
    }

    private static void AppendAligned(StringBuilder text, ReportTable table)
    {
        var widths = new int[table.Header.Length];
        foreach (var row in table.Rows.Prepend(table.Header))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        AppendRow(text, table.Header, widths, table.RightAligned);
        AppendRow(text, [.. widths.Select(w => new string('-', w))], widths, table.RightAligned);
        foreach (var row in table.Rows)
        {
            AppendRow(text, row, widths, table.RightAligned);
        }
    }

    private static void AppendRow(StringBuilder text, string[] cells, int[] widths, bool[] rightAligned)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                text.Append("  ");
            }

            text.Append(rightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }

        text.Append('\n');
    }
}
