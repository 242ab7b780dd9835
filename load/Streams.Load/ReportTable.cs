namespace Streams.Load;

/// <summary>One table of a benchmark report: its header, which columns are right-aligned (numbers), and its rows.</summary>
/// <param name="Header">The column titles.</param>
/// <param name="RightAligned">Per column, whether its cells are right-aligned.</param>
internal sealed record ReportTable(string[] Header, bool[] RightAligned)
{
    public List<string[]> Rows { get; } = [];
}
