namespace Streams.Load.ClusterBench;

/// <summary>How a benchmark of node processes (<c>streams</c>, <c>firehose</c>) went, beside its figures: what its report's header and its exit code tell.</summary>
internal abstract class ClusterOutcome
{
    /// <summary>Stopped by Ctrl-C: the figures are partial.</summary>
    public bool Cancelled { get; set; }

    /// <summary>Why the benchmark stopped early (a node exited, the cluster stalled, a call failed); null when it did not.</summary>
    public string? Aborted { get; set; }

    public TimeSpan Took { get; set; }

    /// <summary>The 1-minute load average when the benchmark started and when it ended.</summary>
    public double LoadBefore { get; set; } = ClusterBenchmarkRun.LoadAverage();

    public double LoadAfter { get; set; } = double.NaN;

    /// <summary>Where the node logs were kept; null when they were deleted.</summary>
    public string? LogDirectory { get; set; }

    /// <summary>Something went wrong: the figures are suspect and the exit code is 1.</summary>
    public abstract bool Failed { get; }

    /// <summary>The exit code: 130 when cancelled, 1 when something failed, else 0.</summary>
    public int ExitCode => Cancelled ? 130 : Failed ? 1 : 0;
}
