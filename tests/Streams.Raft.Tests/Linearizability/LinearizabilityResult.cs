namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// The verdict on a history. When it is not linearizable (or the search gave up), it names the key
/// and the deepest point the search reached: the longest prefix it could linearize, the register
/// value after it, and the op whose response came before any pending op could extend the prefix.
/// </summary>
public sealed class LinearizabilityResult
{
    internal LinearizabilityResult(
        LinearizabilityOutcome outcome,
        string explanation,
        long steps,
        string? key = null,
        IReadOnlyList<KvOperation>? linearizedPrefix = null,
        KvOperation? stuckAt = null)
    {
        Outcome = outcome;
        Explanation = explanation;
        Steps = steps;
        Key = key;
        LinearizedPrefix = linearizedPrefix ?? [];
        StuckAt = stuckAt;
    }

    public LinearizabilityOutcome Outcome { get; }

    public bool IsLinearizable => Outcome == LinearizabilityOutcome.Linearizable;

    /// <summary>Human-readable: on failure, the key, the prefix and the op that could not be placed.</summary>
    public string Explanation { get; }

    /// <summary>Search steps taken, over every key checked.</summary>
    public long Steps { get; }

    /// <summary>The key that is not linearizable (or that exhausted the budget); null when linearizable.</summary>
    public string? Key { get; }

    /// <summary>For <see cref="Key"/>: the longest prefix of a linearization the search found, in order.</summary>
    public IReadOnlyList<KvOperation> LinearizedPrefix { get; }

    /// <summary>For <see cref="Key"/>: the op whose response ended that prefix's search.</summary>
    public KvOperation? StuckAt { get; }

    public override string ToString() => Explanation;
}
