using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// The linearizability checker, on hand-written histories (each a known anomaly or a known
/// subtlety of incomplete operations) and on histories generated from a real dictionary.
/// </summary>
public sealed class LinearizabilityCheckerTests(ITestOutputHelper output)
{
    private const string NeverWritten = "never-written";

    private static readonly Gen<Step> _steps =
        from client in Gen.Choose(0, 4)
        from isPut in Gen.Elements(true, false)
        from key in Gen.Choose(0, 2)
        from before in Gen.Frequency((3, Gen.Choose(0, 3)), (2, Gen.Choose(0, 25)))
        from after in Gen.Frequency((3, Gen.Choose(0, 3)), (2, Gen.Choose(0, 25)))
        from fate in Gen.Choose(0, 19)
        select new Step(client, isPut, key, before, after, fate);

    private static readonly Arbitrary<Step[]> _histories =
        Gen.Choose(0, 60).SelectMany(n => Gen.ArrayOf(_steps, n)).ToArbitrary();

    // Small arbitrary histories, most of them not linearizable: few values, random intervals.
    private static readonly Arbitrary<KvOperation[]> _smallHistories =
        Gen.Choose(0, 7).SelectMany(n => Gen.ArrayOf(
            from client in Gen.Choose(0, 2)
            from isPut in Gen.Elements(true, false)
            from key in Gen.Elements("x", "y")
            from value in Gen.Elements("a", "b", null)
            from invocation in Gen.Choose(0, 20)
            from length in Gen.Choose(0, 10)
            from lost in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
            select new KvOperation(
                client,
                0,
                isPut ? KvOperationKind.Put : KvOperationKind.Get,
                key,
                isPut ? value ?? "c" : value,
                invocation,
                lost ? null : invocation + length),
            n))
        .Select(ops => ops.Select((o, i) => o with { OpId = i + 1 }).ToArray())
        .ToArbitrary();

    [Fact]
    public void A_sequential_history_is_linearizable()
    {
        var result = LinearizabilityChecker.Check(
        [
            Get(1, "x", null, 0, 1),
            Put(2, "x", "a", 2, 3),
            Get(3, "x", "a", 4, 5),
            Put(4, "x", "b", 6, 7),
            Get(5, "x", "b", 8, 9),
            Get(6, "y", null, 10, 11),
        ]);

        Assert.True(result.IsLinearizable, result.Explanation);
        Assert.Equal(LinearizabilityOutcome.Linearizable, result.Outcome);
        Assert.Null(result.Key);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("b")]
    public void A_get_concurrent_with_a_put_may_see_the_old_or_the_new_value(string observed)
    {
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "x", "a", 0, 1),
            Put(2, "x", "b", 2, 10),
            Get(3, "x", observed, 3, 5),
        ]);

        Assert.True(result.IsLinearizable, result.Explanation);
    }

    [Fact]
    public void A_stale_read_after_a_completed_write_is_not_linearizable()
    {
        var stale = Get(3, "x", "a", 4, 5);
        var result = LinearizabilityChecker.Check([Put(1, "x", "a", 0, 1), Put(2, "x", "b", 2, 3), stale]);

        Assert.False(result.IsLinearizable);
        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal("x", result.Key);
        Assert.Equal(stale, result.StuckAt);
        Assert.Equal([1L, 2L], result.LinearizedPrefix.Select(o => o.OpId));
        Assert.Contains("register holds \"b\"", result.Explanation, StringComparison.Ordinal);
        output.WriteLine(result.Explanation);
    }

    [Fact]
    public void A_read_of_a_value_never_written_is_not_linearizable()
    {
        var result = LinearizabilityChecker.Check([Put(1, "x", "a", 0, 1), Get(2, "x", "zzz", 2, 3)]);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal(2, result.StuckAt?.OpId);
        Assert.Contains("no put on this key writes", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_of_absent_after_a_completed_write_is_not_linearizable()
    {
        var result = LinearizabilityChecker.Check([Put(1, "x", "a", 0, 1), Get(2, "x", null, 2, 3)]);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
    }

    [Fact]
    public void Two_reads_seeing_concurrent_writes_in_an_order_contradicting_real_time_are_not_linearizable()
    {
        // Either write order alone is fine; a new-then-old pair of later reads is not.
        KvOperation[] writes = [Put(1, "x", "v1", 0, 5), Put(2, "x", "v2", 1, 6)];
        var r1 = Get(3, "x", "v2", 7, 8);
        var r2 = Get(4, "x", "v1", 9, 10);

        Assert.True(LinearizabilityChecker.Check([.. writes, r1]).IsLinearizable);
        Assert.True(LinearizabilityChecker.Check([.. writes, r2]).IsLinearizable);
        var result = LinearizabilityChecker.Check([.. writes, r1, r2]);
        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal(r2, result.StuckAt);
        output.WriteLine(result.Explanation);
    }

    [Fact]
    public void An_incomplete_put_may_explain_a_later_read()
    {
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "x", "a", 0, 1),
            Put(2, "x", "b", 2, null),
            Get(3, "x", "b", 50, 51),
            Get(4, "x", "b", 60, 61),
        ]);

        Assert.True(result.IsLinearizable, result.Explanation);
    }

    [Fact]
    public void An_incomplete_put_never_observed_is_linearizable()
    {
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "x", "a", 0, 1),
            Put(2, "x", "b", 2, null),
            Get(3, "x", "a", 5, 6),
            Get(4, "x", "a", 7, 8),
        ]);

        Assert.True(result.IsLinearizable, result.Explanation);
    }

    [Fact]
    public void An_incomplete_put_cannot_take_effect_twice()
    {
        // Once "a" is overwritten by a completed put, reading "a" again needs a second "a" write.
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "x", "a", 0, null),
            Get(2, "x", "a", 5, 6),
            Put(3, "x", "b", 7, 8),
            Get(4, "x", "a", 9, 10),
        ]);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
    }

    [Fact]
    public void An_incomplete_put_observed_before_its_invocation_is_not_linearizable()
    {
        var result = LinearizabilityChecker.Check([Get(1, "x", "b", 0, 1), Put(2, "x", "b", 5, null)]);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal(1, result.StuckAt?.OpId);
    }

    [Fact]
    public void A_get_without_a_response_is_ignored()
    {
        var result = LinearizabilityChecker.Check([Put(1, "x", "a", 0, 1), Get(2, "x", "garbage", 2, null)]);

        Assert.True(result.IsLinearizable, result.Explanation);
    }

    [Fact]
    public void Operations_touching_at_one_instant_are_concurrent()
    {
        // A precedes B only if A.Response < B.Invocation: a tie leaves them concurrent.
        Assert.True(LinearizabilityChecker.Check([Get(1, "x", "a", 0, 5), Put(2, "x", "a", 5, 6)]).IsLinearizable);
        Assert.False(LinearizabilityChecker.Check([Get(1, "x", "a", 0, 4), Put(2, "x", "a", 5, 6)]).IsLinearizable);
    }

    [Fact]
    public void Keys_are_independent_registers()
    {
        // As one register this would fail (y reads absent after "v" was written to x).
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "x", "v", 0, 1),
            Get(2, "y", null, 2, 3),
            Put(3, "y", "v", 4, 5),
            Get(4, "x", "v", 6, 7),
        ]);

        Assert.True(result.IsLinearizable, result.Explanation);
    }

    [Fact]
    public void The_explanation_names_the_failing_key_and_the_ops()
    {
        var result = LinearizabilityChecker.Check(
        [
            Put(1, "alpha", "a1", 0, 1),
            Get(2, "alpha", "a1", 2, 3),
            Put(3, "beta", "b1", 0, 1),
            Put(4, "beta", "b2", 2, 3),
            Get(5, "beta", "b1", 4, 5, client: 7),
            Get(6, "gamma", null, 0, 1),
        ]);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal("beta", result.Key);
        Assert.Contains("key \"beta\"", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("#5 c7 Get(beta) -> \"b1\" [4, 5]", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("#4 c0 Put(beta, \"b2\") [2, 3]", result.Explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("alpha", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_violation_on_one_key_wins_over_an_inconclusive_other_key()
    {
        var hard = ConcurrentPutsAndAnImpossibleRead("a", 12);
        var result = LinearizabilityChecker.Check([.. hard, Put(100, "b", "v", 0, 1), Get(101, "b", null, 2, 3)], maxSteps: 100);

        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal("b", result.Key);
    }

    [Fact]
    public void A_search_over_its_step_budget_is_inconclusive_and_decides_with_enough_budget()
    {
        var history = ConcurrentPutsAndAnImpossibleRead("x", 12);

        var bounded = LinearizabilityChecker.Check(history, maxSteps: 100);
        Assert.Equal(LinearizabilityOutcome.Inconclusive, bounded.Outcome);
        Assert.False(bounded.IsLinearizable);
        Assert.Equal("x", bounded.Key);
        Assert.Contains("inconclusive", bounded.Explanation, StringComparison.Ordinal);

        // The memo keeps the full search to (subsets of puts x last value), far below 12! orders.
        var full = LinearizabilityChecker.Check(history);
        Assert.Equal(LinearizabilityOutcome.NotLinearizable, full.Outcome);
        output.WriteLine($"{full.Steps} steps");
    }

    [Fact]
    public void A_response_before_its_invocation_is_rejected() =>
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check([Put(1, "x", "a", 5, 4)]));

    [Fact]
    public void Any_sequential_execution_on_a_dictionary_is_linearizable() =>
        Prop.ForAll(_histories, steps =>
        {
            var history = Sequential(steps);
            var result = LinearizabilityChecker.Check(history);
            Assert.True(result.IsLinearizable, result.Explanation);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Any_execution_with_intervals_widened_around_its_linearization_points_is_linearizable() =>
        Prop.ForAll(_histories, steps =>
        {
            var history = Widened(steps);
            var result = LinearizabilityChecker.Check(history);
            Assert.True(result.IsLinearizable, result.Explanation);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_completed_get_returning_a_value_never_written_is_detected() =>
        Prop.ForAll(_histories, Gen.Choose(0, 1000).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (steps, pick, widened) =>
        {
            var history = widened ? Widened(steps) : Sequential(steps);
            var gets = history.Where(o => o.Kind == KvOperationKind.Get && o.IsComplete).ToList();
            if (gets.Count == 0)
            {
                var end = history.Select(o => o.Response ?? o.Invocation).DefaultIfEmpty(0).Max() + 1;
                gets.Add(Get(history.Count + 1, "k0", null, end, end + 1));
                history.Add(gets[0]);
            }

            var target = gets[pick % gets.Count];
            history[history.IndexOf(target)] = target with { Value = NeverWritten };

            var result = LinearizabilityChecker.Check(history);
            Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
            Assert.Equal(target.Key, result.Key);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void On_small_histories_the_checker_agrees_with_trying_every_order() =>
        Prop.ForAll(_smallHistories, history =>
        {
            var expected = SomeOrderExplains(history);
            var result = LinearizabilityChecker.Check(history);
            return (result.IsLinearizable == expected)
                .Label($"expected linearizable: {expected}; checker: {result.Explanation}")
                .Classify(expected, "linearizable");
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_simulator_sized_history_is_checked_quickly()
    {
        // ~2,000 ops over 5 keys from 5 clients, small overlaps, some puts with unknown outcome.
        var random = new Random(20240611);
        var steps = new Step[2000];
        for (var i = 0; i < steps.Length; i++)
        {
            steps[i] = new Step(
                random.Next(5),
                random.Next(2) == 0,
                random.Next(5),
                random.Next(0, 15),
                random.Next(0, 15),
                random.Next(0, 40));
        }

        var history = Widened(steps);
        var stopwatch = Stopwatch.StartNew();
        var result = LinearizabilityChecker.Check(history);
        stopwatch.Stop();

        output.WriteLine($"{history.Count} ops, {history.Count(o => !o.IsComplete)} incomplete, {result.Steps} steps, {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(LinearizabilityOutcome.Linearizable, result.Outcome);
    }

    /// <summary>
    /// Runs the steps one after another on a dictionary, each in its own interval; gaps between
    /// intervals come from <see cref="Step.Before"/> so clients interleave at random times.
    /// </summary>
    private static List<KvOperation> Sequential(Step[] steps)
    {
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        var history = new List<KvOperation>();
        long time = 0;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var key = $"k{step.Key}";
            var invocation = time + step.Before;
            var response = invocation + (step.After % 3);
            time = response + 1;
            if (step.IsPut)
            {
                var value = $"v{i}";
                store[key] = value;
                history.Add(new KvOperation(step.Client, i + 1, KvOperationKind.Put, key, value, invocation, response));
            }
            else
            {
                history.Add(new KvOperation(step.Client, i + 1, KvOperationKind.Get, key, store.GetValueOrDefault(key), invocation, response));
            }
        }

        return history;
    }

    /// <summary>
    /// Runs the steps on a dictionary at linearization points 10 apart, then widens each op's
    /// interval around its point, so ops overlap but a valid linearization exists by construction.
    /// Fate 0 loses a put's response after it took effect, fate 1 loses it before (it never takes
    /// effect), and fate 0 loses a get's response (its observed value is then garbage).
    /// </summary>
    private static List<KvOperation> Widened(Step[] steps)
    {
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        var history = new List<KvOperation>();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var key = $"k{step.Key}";
            var point = 10L * (i + 3);
            var invocation = point - step.Before;
            long? response = point + step.After;
            if (step.IsPut)
            {
                var value = $"v{i}";
                if (step.Fate != 1)
                {
                    store[key] = value;
                }

                response = step.Fate <= 1 ? null : response;
                history.Add(new KvOperation(step.Client, i + 1, KvOperationKind.Put, key, value, invocation, response));
            }
            else
            {
                var observed = step.Fate == 0 ? "garbage" : store.GetValueOrDefault(key);
                response = step.Fate == 0 ? null : response;
                history.Add(new KvOperation(step.Client, i + 1, KvOperationKind.Get, key, observed, invocation, response));
            }
        }

        return history;
    }

    /// <summary>
    /// The definition, by brute force over the whole store (no per-key split): some order of the
    /// completed ops and some of the incomplete puts respects real time and a dictionary's answers.
    /// </summary>
    private static bool SomeOrderExplains(KvOperation[] history)
    {
        var ops = history.Where(o => o.IsComplete || o.Kind == KvOperationKind.Put).ToList();
        var placed = new bool[ops.Count];
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        return Extend();

        bool Extend()
        {
            if (ops.Select((o, i) => placed[i] || !o.IsComplete).All(done => done))
            {
                return true;
            }

            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                var mustWait = ops.Where((r, j) => !placed[j] && r.Response < op.Invocation).Any();
                if (placed[i] || mustWait)
                {
                    continue;
                }

                store.TryGetValue(op.Key, out var previous);
                if (op.Kind == KvOperationKind.Get && op.Value != previous)
                {
                    continue;
                }

                placed[i] = true;
                if (op.Kind == KvOperationKind.Put)
                {
                    store[op.Key] = op.Value!;
                }

                var explained = Extend();
                placed[i] = false;
                if (previous is null)
                {
                    store.Remove(op.Key);
                }
                else
                {
                    store[op.Key] = previous;
                }

                if (explained)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// n puts all concurrent with a read of a value none writes: no linearization, and proving it
    /// means trying every subset of the puts before the read.
    /// </summary>
    private static List<KvOperation> ConcurrentPutsAndAnImpossibleRead(string key, int n)
    {
        var history = Enumerable.Range(1, n).Select(i => Put(i, key, $"v{i}", 0, 100)).ToList();
        history.Add(Get(n + 1, key, NeverWritten, 50, 60));
        return history;
    }

    private static KvOperation Put(long id, string key, string value, long invocation, long? response, int client = 0) =>
        new(client, id, KvOperationKind.Put, key, value, invocation, response);

    private static KvOperation Get(long id, string key, string? observed, long invocation, long? response, int client = 0) =>
        new(client, id, KvOperationKind.Get, key, observed, invocation, response);

    /// <summary>
    /// One generated operation: who issues it, what it does, how far its interval reaches before and
    /// after its linearization point, and its fate (whether its response is lost).
    /// </summary>
    private sealed record Step(int Client, bool IsPut, int Key, int Before, int After, int Fate);
}
