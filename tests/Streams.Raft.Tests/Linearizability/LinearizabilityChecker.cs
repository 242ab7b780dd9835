namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// Checks that a key-value history is linearizable. Linearizability is local (Herlihy &amp; Wing):
/// a history is linearizable iff its restriction to each object is, so each key is checked on its
/// own as a single register (<see cref="RegisterSearch"/>), which keeps the search small.
/// </summary>
public static class LinearizabilityChecker
{
    public const long DefaultMaxSteps = 5_000_000;

    /// <summary>
    /// Checks <paramref name="history"/>. Gets without a response are dropped (they tell nothing);
    /// puts without one may have taken effect at any time after their invocation, or never.
    /// <paramref name="maxSteps"/> bounds the search of each key, so a hard key is reported
    /// <see cref="LinearizabilityOutcome.Inconclusive"/> instead of running for ever, and the other
    /// keys are still checked: a violation on any key wins over an inconclusive one.
    /// </summary>
    public static LinearizabilityResult Check(IReadOnlyList<KvOperation> history, long maxSteps = DefaultMaxSteps)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);

        var byKey = new SortedDictionary<string, List<KvOperation>>(StringComparer.Ordinal);
        foreach (var op in history)
        {
            Validate(op);
            if (op.Kind == KvOperationKind.Get && !op.IsComplete)
            {
                continue;
            }

            if (!byKey.TryGetValue(op.Key, out var ops))
            {
                byKey[op.Key] = ops = [];
            }

            ops.Add(op);
        }

        long steps = 0;
        LinearizabilityResult? inconclusive = null;
        var checkedOps = 0;
        foreach (var (key, ops) in byKey)
        {
            var result = RegisterSearch.Check(key, ops, maxSteps);
            steps += result.Steps;
            checkedOps += ops.Count;
            switch (result.Outcome)
            {
                case LinearizabilityOutcome.NotLinearizable:
                    return WithSteps(result, steps);
                case LinearizabilityOutcome.Inconclusive:
                    inconclusive ??= result;
                    break;
            }
        }

        return inconclusive is not null
            ? WithSteps(inconclusive, steps)
            : new LinearizabilityResult(
                LinearizabilityOutcome.Linearizable,
                $"linearizable: {checkedOps} ops over {byKey.Count} keys, {steps} search steps",
                steps);
    }

    private static LinearizabilityResult WithSteps(LinearizabilityResult result, long steps) =>
        new(result.Outcome, result.Explanation, steps, result.Key, result.LinearizedPrefix, result.StuckAt);

    private static void Validate(KvOperation op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.Key is null)
        {
            throw new ArgumentException($"op #{op.OpId} has no key", nameof(op));
        }

        if (op.Kind == KvOperationKind.Put && op.Value is null)
        {
            throw new ArgumentException($"op {op} writes no value", nameof(op));
        }

        if (op.Response < op.Invocation)
        {
            throw new ArgumentException($"op {op} responds before its invocation", nameof(op));
        }
    }
}
