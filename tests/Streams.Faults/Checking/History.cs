using System.Collections.Concurrent;

namespace Streams.Faults.Checking;

/// <summary>
/// What happened during a run, as the clients saw it, recorded from many threads: records sent,
/// acknowledged and failed; records delivered to consumers; checkpoints acknowledged; faults.
/// Times are seconds since the run started, from one clock.
/// </summary>
internal sealed class History(TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();
    private readonly ConcurrentQueue<SentRecord> _sent = new();
    private readonly ConcurrentQueue<AckedRecord> _acked = new();
    private readonly ConcurrentQueue<FailedRecord> _failed = new();
    private readonly ConcurrentQueue<DeliveredRecord> _delivered = new();
    private readonly ConcurrentQueue<CommittedCheckpoint> _checkpoints = new();
    private readonly ConcurrentQueue<FaultWindow> _faults = new();
    private readonly ConcurrentDictionary<string, double> _lastAckByShard = new(StringComparer.Ordinal);

    /// <summary>Seconds since the run started.</summary>
    public double Now => time.GetElapsedTime(_start).TotalSeconds;

    public IReadOnlyCollection<SentRecord> Sent => _sent;

    public IReadOnlyCollection<AckedRecord> Acked => _acked;

    public IReadOnlyCollection<FailedRecord> Failed => _failed;

    public IReadOnlyCollection<DeliveredRecord> Delivered => _delivered;

    public IReadOnlyCollection<CommittedCheckpoint> Checkpoints => _checkpoints;

    public IReadOnlyCollection<FaultWindow> Faults => _faults;

    public void Add(SentRecord record) => _sent.Enqueue(record);

    public void Add(AckedRecord record)
    {
        _acked.Enqueue(record);
        _lastAckByShard.AddOrUpdate(record.ShardId, record.At, (_, last) => Math.Max(last, record.At));
    }

    public void Add(FailedRecord record) => _failed.Enqueue(record);

    public void Add(DeliveredRecord record) => _delivered.Enqueue(record);

    public void Add(CommittedCheckpoint checkpoint) => _checkpoints.Enqueue(checkpoint);

    public void Add(FaultWindow fault) => _faults.Enqueue(fault);

    /// <summary>Whether every one of <paramref name="shardIds"/> acknowledged a write at or after <paramref name="since"/>.</summary>
    public bool AllShardsAckedSince(IEnumerable<string> shardIds, double since) =>
        shardIds.All(s => _lastAckByShard.TryGetValue(s, out var last) && last >= since);
}
