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

    /// <summary>
    /// What one node's copy of the stream gets wrong: a record there more than once (an idempotent
    /// retry never lands twice), an acknowledged record missing or away from its acknowledged place.
    /// </summary>
    /// <param name="nodeId">The node, for the messages.</param>
    /// <param name="reads">Every shard as the node returned it.</param>
    public IEnumerable<string> ProblemsOn(string nodeId, IEnumerable<ShardRead> reads)
    {
        var byPayload = reads
            .SelectMany(r => r.Records.Select(record => (r.ShardId, Record: record)))
            .GroupBy(x => x.Record.Data.ToStringUtf8(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (payload, copies) in byPayload.Where(p => p.Value.Count > 1))
        {
            yield return $"on {nodeId}: '{payload}' is there {copies.Count} times: {string.Join(", ", copies.Select(c => $"{c.ShardId} {c.Record.SequenceNumber}"))}";
        }

        foreach (var ack in Acked.OrderBy(a => a.AckedAtSeconds))
        {
            if (!byPayload.TryGetValue(ack.Payload, out var found))
            {
                yield return $"on {nodeId}: '{ack.Payload}' was acknowledged at {ack.ShardId} {ack.SequenceNumber} (at {ack.AckedAtSeconds:F2}s through {ack.Via}) but is missing";
            }
            else if (found.Count == 1 && (found[0].ShardId != ack.ShardId || found[0].Record.SequenceNumber != ack.SequenceNumber))
            {
                yield return $"on {nodeId}: '{ack.Payload}' was acknowledged at {ack.ShardId} {ack.SequenceNumber} (at {ack.AckedAtSeconds:F2}s through {ack.Via}) but is at {found[0].ShardId} {found[0].Record.SequenceNumber}";
            }
        }
    }

    /// <summary>Places two acknowledgements name: each is a problem.</summary>
    public IEnumerable<string> Clashes() =>
        Acked.GroupBy(a => (a.ShardId, a.SequenceNumber))
            .Where(g => g.Count() > 1)
            .Select(clash => $"{clash.Key.ShardId} {clash.Key.SequenceNumber} was acknowledged for {clash.Count()} records: {string.Join(", ", clash.Select(a => $"'{a.Payload}' at {a.AckedAtSeconds:F2}s"))}");

    /// <summary>The failures seen, most frequent first, in one line.</summary>
    public string FailureSummary() =>
        _failures.IsEmpty ? "no failed attempts" : string.Join(", ", _failures.OrderByDescending(f => f.Value).Select(f => $"{f.Key} x{f.Value}"));
}
