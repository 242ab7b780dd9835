using Streams.Faults.Checking;
using Streams.Faults.Nemesis;

namespace Streams.Faults;

/// <summary>How a fault run ended: the checker's report, the faults applied, the log, and a summary to print.</summary>
internal sealed record FaultRunResult(
    int Seed,
    CheckReport Report,
    IReadOnlyDictionary<FaultKind, int> FaultsApplied,
    IReadOnlyCollection<string> Log,
    IReadOnlyDictionary<string, long> FailureCounts,
    TimeSpan Elapsed,
    string? KeptDirectory)
{
    public bool Passed => Report.Passed;
}
