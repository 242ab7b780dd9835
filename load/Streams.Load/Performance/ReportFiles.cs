using Streams.Load.Reporting;

namespace Streams.Load.Performance;

/// <summary>Writes a report as NAME.md, NAME.json and NAME.html into a directory.</summary>
internal static class ReportFiles
{
    public static async Task WriteAsync(LoadReport report, string directory, string name, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, name + ".md"), MarkdownReport.Write(report), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, name + ".json"), JsonReport.Write(report), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, name + ".html"), HtmlReport.Write(report), cancellationToken).ConfigureAwait(false);
    }
}
