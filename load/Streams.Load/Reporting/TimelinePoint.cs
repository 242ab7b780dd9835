namespace Streams.Load.Reporting;

/// <summary>
/// One interval of a run (seconds since the measurement began, warm-up excluded): operations
/// completed per second in it, records per second, and the latency of those completions.
/// </summary>
internal sealed record TimelinePoint(double Second, double OperationsPerSecond, double RecordsPerSecond, LatencySummary Latency);
