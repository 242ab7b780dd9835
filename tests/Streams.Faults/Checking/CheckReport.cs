namespace Streams.Faults.Checking;

/// <summary>How long after a heal every shard acknowledged a write again (null: not within the bound).</summary>
internal sealed record Recovery(FaultWindow Fault, double? Seconds);

/// <summary>A stretch with no acknowledged write on a shard.</summary>
internal sealed record AvailabilityGap(string ShardId, double Start, double Seconds);

/// <summary>What the checker found and the figures of the run it judged.</summary>
internal sealed record CheckReport(
    IReadOnlyList<Finding> Findings,
    int Sent,
    int Acked,
    int Failed,
    int Stored,
    int Deliveries,
    int Checkpoints,
    IReadOnlyList<Recovery> Recoveries,
    IReadOnlyList<AvailabilityGap> Gaps)
{
    public bool Passed => Findings.Count == 0;
}
