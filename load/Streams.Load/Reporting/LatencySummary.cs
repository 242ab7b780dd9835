namespace Streams.Load.Reporting;

/// <summary>Latency percentiles of a run or of one interval, in milliseconds (NaN when nothing completed).</summary>
internal sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max, double Mean, long Count)
{
    public static LatencySummary Empty { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
}
