using System.Collections.Concurrent;
using System.Globalization;

namespace Streams.Raft.Tests.Cluster;

/// <summary>
/// The client's record of every value it tried to write: how many attempts may have written it
/// (acknowledged or ambiguous) and where it was acknowledged. Thread-safe: several writers share it.
/// </summary>
internal sealed class WriteLedger
{
    private readonly ConcurrentDictionary<string, ValueHistory> _values = new(StringComparer.Ordinal);
    private long _next;
    private long _acks;
    private long _ambiguous;
    private long _notWritten;

    public long Acks => Interlocked.Read(ref _acks);

    public long Ambiguous => Interlocked.Read(ref _ambiguous);

    public long NotWritten => Interlocked.Read(ref _notWritten);

    public int Values => _values.Count;

    /// <summary>A value never used before ("w-&lt;n&gt;").</summary>
    public string NextValue()
    {
        var value = "w-" + Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture);
        _values[value] = new ValueHistory();
        return value;
    }

    public void Record(string value, PutOutcome outcome)
    {
        var history = _values[value];
        lock (history)
        {
            switch (outcome.Result)
            {
                case PutResult.Acknowledged:
                    history.AckedIndex = outcome.Index;
                    history.MayHaveWritten++;
                    Interlocked.Increment(ref _acks);
                    break;
                case PutResult.Ambiguous:
                    history.MayHaveWritten++;
                    Interlocked.Increment(ref _ambiguous);
                    break;
                default:
                    Interlocked.Increment(ref _notWritten);
                    break;
            }
        }
    }

    public bool TryGet(string value, out long ackedIndex, out int mayHaveWritten)
    {
        if (!_values.TryGetValue(value, out var history))
        {
            ackedIndex = 0;
            mayHaveWritten = 0;
            return false;
        }

        lock (history)
        {
            ackedIndex = history.AckedIndex;
            mayHaveWritten = history.MayHaveWritten;
            return true;
        }
    }

    /// <summary>Every acknowledged value with the index it was acknowledged at.</summary>
    public IReadOnlyList<(string Value, long Index)> Acknowledged()
    {
        var acked = new List<(string, long)>();
        foreach (var (value, history) in _values)
        {
            lock (history)
            {
                if (history.AckedIndex != 0)
                {
                    acked.Add((value, history.AckedIndex));
                }
            }
        }

        return acked;
    }

    private sealed class ValueHistory
    {
        // 0 while not acknowledged; Raft indexes start at 1.
        public long AckedIndex { get; set; }

        // Attempts that were acknowledged or ended ambiguously: the most copies that may exist.
        public int MayHaveWritten { get; set; }
    }
}
