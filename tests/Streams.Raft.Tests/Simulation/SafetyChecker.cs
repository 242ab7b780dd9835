using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Simulation;

/// <summary>
/// Observes a cluster from outside and checks Raft's safety properties (Figure 3 of the paper).
/// Logs are compared through a chain digest: the digest at index i covers every (term, data)
/// up to i, so two logs with equal digests at i are identical up to i.
/// <list type="bullet">
/// <item>Election safety: at most one leader per term.</item>
/// <item>Log matching: if two logs (of any node, at any time) hold an entry with the same index
/// and term, they are identical up to it. Checked by registering (index, term) -> digest.</item>
/// <item>Leader completeness: a committed entry is in the log of every leader of a later
/// term (and of the term it was observed committed in).</item>
/// <item>State machine safety: no two nodes apply different entries at one index.</item>
/// </list>
/// </summary>
public sealed class SafetyChecker
{
    private readonly Dictionary<long, long> _leaderOfTerm = [];
    private readonly Dictionary<(long Index, long Term), ulong> _digestOf = [];
    private readonly Dictionary<long, List<(long Term, ulong Digest)>> _logs = [];
    private readonly List<(long Term, ulong Digest, long ObservedTerm)> _committed = [(0, 0, 0)];
    private readonly Dictionary<long, Entry> _appliedAt = [];
    private readonly Dictionary<long, long> _lastApplied = [];

    public long CommittedIndex => _committed.Count - 1;

    /// <summary>A node persisted entries (replacing its log from the first entry's index).</summary>
    public void OnPersisted(long node, IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var log = LogOf(node);
        var from = (int)entries[0].Index;
        if (from > log.Count)
        {
            throw new SafetyViolationException($"node {node} persisted from {from} leaving a gap after {log.Count - 1}");
        }

        log.RemoveRange(from, log.Count - from);
        foreach (var e in entries)
        {
            var digest = Mix(log[^1].Digest, e.Term, e.Data.Span);
            log.Add((e.Term, digest));
            if (_digestOf.TryGetValue((e.Index, e.Term), out var known))
            {
                if (known != digest)
                {
                    throw new SafetyViolationException(
                        $"log matching: node {node} holds entry {e.Index}@{e.Term} with a history different from another log's");
                }
            }
            else
            {
                _digestOf[(e.Index, e.Term)] = digest;
            }
        }
    }

    /// <summary>A node is in <paramref name="term"/>, leader or not.</summary>
    public void OnRole(long node, long term, bool isLeader)
    {
        if (!isLeader)
        {
            return;
        }

        if (_leaderOfTerm.TryGetValue(term, out var leader) && leader != node)
        {
            throw new SafetyViolationException($"election safety: nodes {leader} and {node} are both leaders of term {term}");
        }

        _leaderOfTerm[term] = node;
        CheckLeaderCompleteness(node, term);
    }

    /// <summary>A node in <paramref name="term"/> considers everything up to <paramref name="commit"/> committed.</summary>
    public void OnCommit(long node, long term, long commit)
    {
        var log = LogOf(node);
        if (commit >= log.Count)
        {
            throw new SafetyViolationException($"node {node} commits {commit} beyond its persisted log ending at {log.Count - 1}");
        }

        var common = Math.Min(commit, CommittedIndex);
        if (common > 0 && log[(int)common].Digest != _committed[(int)common].Digest)
        {
            throw new SafetyViolationException($"node {node} committed a log different from the committed log at index {common}");
        }

        for (var i = CommittedIndex + 1; i <= commit; i++)
        {
            _committed.Add((log[(int)i].Term, log[(int)i].Digest, term));
        }
    }

    /// <summary>A node applied an entry to its state machine.</summary>
    public void OnApply(long node, Entry entry)
    {
        var expected = _lastApplied.GetValueOrDefault(node) + 1;
        if (entry.Index != expected)
        {
            throw new SafetyViolationException($"node {node} applied index {entry.Index}, expected {expected}");
        }

        _lastApplied[node] = entry.Index;
        if (_appliedAt.TryGetValue(entry.Index, out var other))
        {
            if (!other.ContentEquals(entry))
            {
                throw new SafetyViolationException(
                    $"state machine safety: index {entry.Index} applied as {other} and as {entry} (node {node})");
            }
        }
        else
        {
            _appliedAt[entry.Index] = entry;
        }
    }

    /// <summary>A node crashed: its volatile state machine is gone and it re-applies from its snapshot.</summary>
    public void OnCrash(long node) => _lastApplied.Remove(node);

    /// <summary>
    /// A node persisted a snapshot received from a leader: its log is now the committed log up to
    /// <paramref name="index"/> (a snapshot may only ever hold committed entries).
    /// </summary>
    public void OnSnapshotInstalled(long node, long index, long term)
    {
        if (index > CommittedIndex || _committed[(int)index].Term != term)
        {
            throw new SafetyViolationException(
                $"node {node} installed a snapshot at {index}@{term} that is not a prefix of the committed log (committed up to {CommittedIndex})");
        }

        var log = LogOf(node);
        log.Clear();
        for (var i = 0; i <= index; i++)
        {
            log.Add((_committed[i].Term, _committed[i].Digest));
        }
    }

    /// <summary>A node's state machine was restored from a snapshot at <paramref name="index"/>.</summary>
    public void OnRestored(long node, long index)
    {
        if (_lastApplied.TryGetValue(node, out var applied) && index < applied)
        {
            throw new SafetyViolationException($"node {node} restored a snapshot at {index} behind its applied index {applied}");
        }

        _lastApplied[node] = index;
    }

    /// <summary>The term of the committed entry at <paramref name="index"/>, or 0 when not known committed.</summary>
    public long CommittedTerm(long index) => index <= CommittedIndex ? _committed[(int)index].Term : 0;

    public long LastApplied(long node) => _lastApplied.GetValueOrDefault(node);

    private void CheckLeaderCompleteness(long node, long term)
    {
        // The highest index observed committed in a term at or before the leader's term: by log
        // matching (digests), holding it means holding every committed entry before it.
        for (var i = _committed.Count - 1; i > 0; i--)
        {
            if (_committed[i].ObservedTerm <= term)
            {
                var log = LogOf(node);
                if (i >= log.Count || log[i].Digest != _committed[i].Digest)
                {
                    throw new SafetyViolationException(
                        $"leader completeness: leader {node} of term {term} lacks committed entry {i}@{_committed[i].Term}");
                }

                return;
            }
        }
    }

    private List<(long Term, ulong Digest)> LogOf(long node)
    {
        if (!_logs.TryGetValue(node, out var log))
        {
            _logs[node] = log = [(0, 0)];
        }

        return log;
    }

    private static ulong Mix(ulong previous, long term, ReadOnlySpan<byte> data)
    {
        // FNV-1a over the data, then a splitmix64-style finalizer over (previous, term, data hash).
        var h = 14695981039346656037UL;
        foreach (var b in data)
        {
            h = (h ^ b) * 1099511628211UL;
        }

        var x = previous ^ (h * 0x9E3779B97F4A7C15UL) ^ ((ulong)term * 0xBF58476D1CE4E5B9UL);
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }
}
