using System.Diagnostics;
using System.Text;

namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// Searches for a linearization of one key's history (a single read/write register): Wing &amp;
/// Gong's depth-first search over the call and return events sorted by time, with Lowe's memo of
/// (set of linearized ops, register value) so that a configuration reached by two different orders
/// is explored once ("Testing for linearizability", Lowe 2017).
/// <para>
/// The events form a doubly-linked list. The search repeatedly takes the first event: a call is a
/// candidate to linearize next (it is applied to the register, and if that is legal and the
/// configuration is new, the op's call and return leave the list); a return whose op is still in
/// the list means the current prefix cannot be extended in time, so the last choice is undone (the
/// op goes back into the list, dancing-links style) and the next candidate after it is tried.
/// A put with no response returns at +infinity: it may be linearized anywhere after its call, or
/// left out, as the search succeeds once every completed op is linearized.
/// </para>
/// </summary>
internal sealed class RegisterSearch
{
    private const int Head = 0;
    private const int Absent = 0;
    private const int ShownPrefix = 20;
    private const int ShownPending = 10;

    private readonly string _key;
    private readonly List<KvOperation> _ops;

    // Values are interned per key so the register state is an int; id 0 is "absent".
    private readonly int[] _valueOf;
    private readonly List<string?> _names = [null];
    private readonly HashSet<int> _written = [Absent];

    // Event e in 1..2n: op (e - 1) / 2, a call when e is odd, its return at e + 1. Entry 0 is the
    // list head and 2n + 1 the tail, so links never need a null check.
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int _tail;

    // Zobrist keys: the memo hashes the set of linearized ops incrementally, one xor per change.
    private readonly ulong[] _zobrist;

    private int _bestDepth = -1;
    private List<int> _bestPrefix = [];
    private int _bestState;
    private int _bestStuck;
    private List<int> _bestPending = [];

    private RegisterSearch(string key, List<KvOperation> ops)
    {
        _key = key;
        _ops = ops;
        var n = ops.Count;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        _valueOf = new int[n];
        _zobrist = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            var value = ops[i].Value;
            if (value is not null && !ids.TryGetValue(value, out _valueOf[i]))
            {
                _valueOf[i] = ids[value] = _names.Count;
                _names.Add(value);
            }

            if (ops[i].Kind == KvOperationKind.Put)
            {
                _written.Add(_valueOf[i]);
            }

            _zobrist[i] = SplitMix((ulong)i + 1);
        }

        // At equal times calls sort before returns: A precedes B only if A.Response < B.Invocation.
        var events = new int[2 * n];
        for (var e = 1; e <= 2 * n; e++)
        {
            events[e - 1] = e;
        }

        Array.Sort(events, (a, b) =>
        {
            var byTime = TimeOf(a).CompareTo(TimeOf(b));
            if (byTime != 0)
            {
                return byTime;
            }

            var byKind = IsCall(b).CompareTo(IsCall(a));
            return byKind != 0 ? byKind : a.CompareTo(b);
        });

        _tail = (2 * n) + 1;
        _next = new int[_tail + 1];
        _prev = new int[_tail + 1];
        var previous = Head;
        foreach (var e in events)
        {
            _next[previous] = e;
            _prev[e] = previous;
            previous = e;
        }

        _next[previous] = _tail;
        _prev[_tail] = previous;
    }

    /// <summary>Checks one key's ops (incomplete gets already dropped).</summary>
    public static LinearizabilityResult Check(string key, List<KvOperation> ops, long maxSteps) =>
        new RegisterSearch(key, ops).Run(maxSteps);

    private LinearizabilityResult Run(long maxSteps)
    {
        var n = _ops.Count;
        var completed = _ops.Count(o => o.IsComplete);
        var linearizedCompleted = 0;
        var state = Absent;
        var stack = new List<(int Call, int StateBefore)>();
        var linearized = new ulong[(n + 63) / 64];
        ulong hash = 0;
        var memo = new HashSet<MemoKey>();
        long steps = 0;
        var entry = _next[Head];
        while (linearizedCompleted < completed)
        {
            if (++steps > maxSteps)
            {
                return Result(LinearizabilityOutcome.Inconclusive, steps - 1, maxSteps);
            }

            Debug.Assert(entry != _tail, "a completed op is not linearized, so its return is still in the list");
            var op = OpOf(entry);
            if (IsCall(entry))
            {
                if (TryApply(state, op, out var after))
                {
                    linearized[op >> 6] |= 1UL << (op & 63);
                    hash ^= _zobrist[op];
                    if (!memo.Contains(new MemoKey(linearized, after, hash)))
                    {
                        memo.Add(new MemoKey((ulong[])linearized.Clone(), after, hash));
                        stack.Add((entry, state));
                        state = after;
                        linearizedCompleted += _ops[op].IsComplete ? 1 : 0;
                        Lift(entry);
                        entry = _next[Head];
                        continue;
                    }

                    linearized[op >> 6] &= ~(1UL << (op & 63));
                    hash ^= _zobrist[op];
                }

                entry = _next[entry];
            }
            else
            {
                NoteDeepest(stack, state, entry);
                if (stack.Count == 0)
                {
                    return Result(LinearizabilityOutcome.NotLinearizable, steps, maxSteps);
                }

                var (call, before) = stack[^1];
                stack.RemoveAt(stack.Count - 1);
                var undone = OpOf(call);
                linearized[undone >> 6] &= ~(1UL << (undone & 63));
                hash ^= _zobrist[undone];
                state = before;
                linearizedCompleted -= _ops[undone].IsComplete ? 1 : 0;
                Unlift(call);
                entry = _next[call];
            }
        }

        return new LinearizabilityResult(LinearizabilityOutcome.Linearizable, $"key \"{_key}\" is linearizable", steps);
    }

    private bool TryApply(int state, int op, out int after)
    {
        if (_ops[op].Kind == KvOperationKind.Put)
        {
            after = _valueOf[op];
            return true;
        }

        after = state;
        return _valueOf[op] == state;
    }

    // Removes a call and its return from the list; Unlift undoes the latest Lift exactly.
    private void Lift(int call)
    {
        Unlink(call);
        Unlink(call + 1);
    }

    private void Unlift(int call)
    {
        Relink(call + 1);
        Relink(call);
    }

    private void Unlink(int e)
    {
        _next[_prev[e]] = _next[e];
        _prev[_next[e]] = _prev[e];
    }

    private void Relink(int e)
    {
        _next[_prev[e]] = e;
        _prev[_next[e]] = e;
    }

    /// <summary>
    /// Remembers the deepest dead end for the explanation: the prefix, the register after it, the op
    /// whose response was reached, and the other ops then pending (invoked before it, not linearized).
    /// </summary>
    private void NoteDeepest(List<(int Call, int StateBefore)> stack, int state, int returnEntry)
    {
        if (stack.Count <= _bestDepth)
        {
            return;
        }

        _bestDepth = stack.Count;
        _bestPrefix = [.. stack.Select(s => OpOf(s.Call))];
        _bestState = state;
        _bestStuck = OpOf(returnEntry);
        _bestPending = [];
        for (var e = _next[Head]; e != returnEntry; e = _next[e])
        {
            if (IsCall(e) && OpOf(e) != _bestStuck)
            {
                _bestPending.Add(OpOf(e));
            }
        }
    }

    private LinearizabilityResult Result(LinearizabilityOutcome outcome, long steps, long maxSteps)
    {
        var text = new StringBuilder();
        text.Append(outcome == LinearizabilityOutcome.NotLinearizable
            ? $"not linearizable on key \"{_key}\" ({_ops.Count} ops, {steps} search steps)."
            : $"inconclusive on key \"{_key}\": no verdict within {maxSteps} search steps ({_ops.Count} ops); deepest dead end so far:");
        if (_bestDepth < 0)
        {
            return new LinearizabilityResult(outcome, text.ToString(), steps, _key);
        }

        text.Append($"\nLongest linearizable prefix ({_bestPrefix.Count} ops)");
        if (_bestPrefix.Count > ShownPrefix)
        {
            text.Append($", last {ShownPrefix} shown");
        }

        text.Append(':');
        foreach (var op in _bestPrefix.Skip(Math.Max(0, _bestPrefix.Count - ShownPrefix)))
        {
            text.Append($"\n  {_ops[op]}");
        }

        if (_bestPrefix.Count == 0)
        {
            text.Append("\n  (none)");
        }

        text.Append($"\nleaves the register at {KvOperation.Show(_names[_bestState])}; then this op responds without being linearized:");
        text.Append($"\n  {_ops[_bestStuck]}{Why(_bestStuck)}");
        text.Append("\nand no other op pending by then extends the prefix either:");
        foreach (var op in _bestPending.Take(ShownPending))
        {
            text.Append($"\n  {_ops[op]}{Why(op)}");
        }

        if (_bestPending.Count == 0)
        {
            text.Append("\n  (none)");
        }
        else if (_bestPending.Count > ShownPending)
        {
            text.Append($"\n  ... and {_bestPending.Count - ShownPending} more");
        }

        return new LinearizabilityResult(
            outcome,
            text.ToString(),
            steps,
            _key,
            [.. _bestPrefix.Select(op => _ops[op])],
            _ops[_bestStuck]);
    }

    private string Why(int op)
    {
        if (TryApply(_bestState, op, out _))
        {
            return "  <- every continuation after it fails";
        }

        return _written.Contains(_valueOf[op])
            ? $"  <- reads {KvOperation.Show(_names[_valueOf[op]])}, register holds {KvOperation.Show(_names[_bestState])}"
            : $"  <- reads {KvOperation.Show(_names[_valueOf[op]])}, which no put on this key writes";
    }

    private long TimeOf(int e)
    {
        var op = _ops[OpOf(e)];
        return IsCall(e) ? op.Invocation : op.Response ?? long.MaxValue;
    }

    private static int OpOf(int e) => (e - 1) >> 1;

    private static bool IsCall(int e) => ((e - 1) & 1) == 0;

    private static ulong SplitMix(ulong x)
    {
        x *= 0x9E3779B97F4A7C15UL;
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }

    /// <summary>A configuration of the search: which ops are linearized, and the register value.</summary>
    private readonly record struct MemoKey(ulong[] Linearized, int State, ulong Hash)
    {
        public bool Equals(MemoKey other) =>
            Hash == other.Hash && State == other.State && Linearized.AsSpan().SequenceEqual(other.Linearized);

        public override int GetHashCode() => HashCode.Combine(Hash, State);
    }
}
