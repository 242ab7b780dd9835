using System.Globalization;

namespace Streams.Load.ClusterBench;

/// <summary>What the reports of the benchmarks of node processes (<c>streams</c>, <c>firehose</c>) share: figures as text and the nodes' footer lines.</summary>
internal static class ClusterReport
{
    private static readonly CultureInfo _invariant = CultureInfo.InvariantCulture;

    /// <summary>The status line's text: aborted, cancelled, else <paramref name="failed"/> or <paramref name="ok"/>.</summary>
    public static string Status(ClusterOutcome outcome, string failed, string ok) => outcome switch
    {
        { Aborted: { } reason } => $"ABORTED: {reason}; the figures cover what ran before (details below)",
        { Cancelled: true } => "CANCELLED before the end: partial results",
        { Failed: true } => failed,
        _ => ok,
    };

    /// <summary>The median of a figure over the runs, leaving out NaN and infinities; NaN when none is left.</summary>
    public static double Median<T>(List<T> runs, Func<T, double> figure)
    {
        var values = runs.Select(figure).Where(double.IsFinite).Order().ToList();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }

    /// <summary>Rounded with thousands separators, or "-".</summary>
    public static string Integer(double value) => double.IsFinite(value) ? value.ToString("#,0", _invariant) : "-";

    /// <summary>With <paramref name="decimals"/> decimals and thousands separators, or "-".</summary>
    public static string Number(double value, int decimals) => double.IsFinite(value) ? value.ToString("N" + decimals.ToString(_invariant), _invariant) : "-";

    /// <summary>A percentage already times 100, such as "42 %", or "-".</summary>
    public static string Percent(double value) => double.IsFinite(value) ? value.ToString("0", _invariant) + " %" : "-";

    /// <summary>A line per node (how it ended, what its log counted), its first problems, and its last lines when it exited.</summary>
    public static IEnumerable<string> NodeLines(IEnumerable<StreamsBenchmark.NodeSummary> nodes)
    {
        foreach (var node in nodes)
        {
            var state = node.ExitCode is { } code ? $"EXITED with code {code} during the benchmark" : "ran to the end";
            yield return $"node:      {node.Name} (pid {node.Pid}, {node.Address}): {state}; its log: {node.Warnings} warning(s), {node.Errors} error(s)";
            foreach (var problem in node.Diagnostics.Problems)
            {
                yield return "             " + problem;
            }

            if (node.ExitCode is not null)
            {
                yield return $"           last lines of {node.Name}:";
                foreach (var line in node.Diagnostics.Tail.Split('\n'))
                {
                    yield return "             " + line;
                }
            }
        }
    }
}
