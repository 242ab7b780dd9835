using System.Globalization;
using System.Text;

namespace Streams.Faults;

/// <summary>A fault run's result as text: the verdict, the operations, the faults, recovery and availability, the findings; on failure the seed to rerun it and the fault log.</summary>
internal static class FaultRunSummary
{
    public static string Format(FaultRunResult result, FaultRunOptions options)
    {
        var report = result.Report;
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"fault run, seed {result.Seed}: {(result.Passed ? "PASSED" : "FAILED")} in {result.Elapsed.TotalSeconds:F0} s ({options.Hosts} hosts, {options.Shards} shards, replication {options.ReplicationFactor}, faults for {options.Length.TotalSeconds:F0} s)");
        text.AppendLine(culture, $"  operations: {report.Sent:N0} records sent, {report.Acked:N0} acknowledged, {report.Failed:N0} failed (outcome unknown), {report.Stored:N0} stored; {report.Deliveries:N0} deliveries to the group; {report.Checkpoints:N0} checkpoints acknowledged");
        var faults = result.FaultsApplied.Values.Sum();
        text.AppendLine(culture, $"  faults injected: {faults}{(faults > 0 ? " (" + string.Join(", ", result.FaultsApplied.OrderBy(f => f.Key).Select(f => $"{f.Key} {f.Value}")) + ")" : "")}");
        var recovered = report.Recoveries.Where(r => r.Seconds is not null).Select(r => r.Seconds!.Value).Order().ToList();
        text.AppendLine(recovered.Count == 0
            ? "  writes after a heal: none measured"
            : string.Create(culture, $"  writes on every shard after a heal: median {Median(recovered):F1} s, max {recovered[^1]:F1} s over {recovered.Count} heals (bound {options.RecoveryBound.TotalSeconds:F0} s){(report.Recoveries.Count > recovered.Count ? $"; {report.Recoveries.Count - recovered.Count} not within it" : "")}"));
        var gaps = report.Gaps;
        text.AppendLine(gaps.Count == 0
            ? "  availability gaps (a shard > 1 s without an acknowledged write): none"
            : string.Create(culture, $"  availability gaps (a shard > 1 s without an acknowledged write): {gaps.Count}, longest {gaps.Max(g => g.Seconds):F1} s ({gaps.MaxBy(g => g.Seconds)!.ShardId} at {gaps.MaxBy(g => g.Seconds)!.Start:F0} s), median {Median([.. gaps.Select(g => g.Seconds).Order()]):F1} s"));
        if (result.FailureCounts.Count > 0)
        {
            text.AppendLine(culture, $"  errors seen by the clients: {string.Join(", ", result.FailureCounts.OrderByDescending(f => f.Value).Select(f => $"{f.Key} x{f.Value}"))}");
        }

        if (report.Findings.Count == 0)
        {
            text.AppendLine("  findings: none (no acknowledged record lost, none duplicated, order kept, no sequence number reused, no checkpoint moved back, every record delivered, writes back within the bound)");
        }
        else
        {
            text.AppendLine(culture, $"  findings ({report.Findings.Count}):");
            foreach (var finding in report.Findings)
            {
                text.AppendLine(culture, $"    {finding}");
            }
        }

        if (!result.Passed)
        {
            text.AppendLine(culture, $"  rerun with the same faults: --seed {result.Seed} (STREAMS_FAULTS_SEED={result.Seed} for the tests)");
            if (result.KeptDirectory is not null)
            {
                text.AppendLine(culture, $"  node data and logs kept in {result.KeptDirectory}");
            }

            text.AppendLine("  fault log:");
            foreach (var line in result.Log)
            {
                text.AppendLine(culture, $"    {line}");
            }
        }

        return text.ToString();
    }

    private static double Median(List<double> sorted) =>
        sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
