using System.Collections.Concurrent;
using System.Diagnostics;

namespace Streams.Cluster.Tests;

/// <summary>A record the cluster acknowledged: it must be there, once, at this place.</summary>
internal sealed record AckedRecord(string ShardId, string SequenceNumber, string Payload, string PartitionKey, int Writer, double AckedAtSeconds, string Via);

/// <summary>
/// What the writers did, shared between them: every payload ever sent (a payload is sent by one
/// writer, in one batch, possibly several times), the acknowledged records, and counts of the
/// failures seen, by error name.
/// </summary>
internal sealed class WriteLedger(Stopwatch clock)
{
    private readonly ConcurrentDictionary<string, byte> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<AckedRecord> _acked = new();
    private readonly ConcurrentDictionary<string, int> _acksByShard = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _problems = new();
    private long _attempts;
    private long _batchesAcked;

    public double Now => clock.Elapsed.TotalSeconds;

    public int Acks => _acked.Count;

    public long Attempts => Interlocked.Read(ref _attempts);

    public long BatchesAcked => Interlocked.Read(ref _batchesAcked);

    public int SentPayloads => _sent.Count;

    public IReadOnlyCollection<AckedRecord> Acked => [.. _acked];

    /// <summary>Problems the writers saw that are failures by themselves (an impossible answer).</summary>
    public IReadOnlyCollection<string> Problems => [.. _problems];

    public int AcksOf(string shardId) => _acksByShard.TryGetValue(shardId, out var count) ? count : 0;

    public void Sent(IEnumerable<string> payloads)
    {
        Interlocked.Increment(ref _attempts);
        foreach (var payload in payloads)
        {
            _sent.TryAdd(payload, 0);
        }
    }

    public bool WasSent(string payload) => _sent.ContainsKey(payload);

    public void Ack(AckedRecord record)
    {
        _acked.Enqueue(record);
        _acksByShard.AddOrUpdate(record.ShardId, 1, (_, n) => n + 1);
    }

    public void BatchAcked() => Interlocked.Increment(ref _batchesAcked);

    public void Failed(string error, int records = 1) => _failures.AddOrUpdate(error, records, (_, n) => n + records);

    public void Problem(string problem) => _problems.Enqueue($"{Now,7:F2}s {problem}");

    /// <summary>The failures seen, most frequent first, in one line.</summary>
    public string FailureSummary() =>
        _failures.IsEmpty ? "no failed attempts" : string.Join(", ", _failures.OrderByDescending(f => f.Value).Select(f => $"{f.Key} x{f.Value}"));
}
