using Google.Protobuf;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Server.Shards.V1;
using Streams.Storage.Batches;
using Streams.Storage.Segments.Waiting;

namespace Streams.Server.Shards;

/// <summary>
/// What a shard group applies: the records themselves stay in the segment log, so applying a
/// batch only moves the committed watermark readers stop at, and keeps the shard's seal and its
/// idempotent producers. Readers on other threads see <see cref="AppliedIndex"/>,
/// <see cref="SealIndex"/> and <see cref="LastArrivalMs"/> through volatile reads; the producer
/// table is read under its lock by the leader's write path.
/// </summary>
internal sealed class ShardStateMachine : IStateMachine
{
    private readonly Lock _producersLock = new();
    private readonly ProducerTable _producers = new();
    private long _appliedIndex;
    private long _sealIndex;
    private long _lastRecordIndex;
    private long _lastArrivalMs;
    private int _lastRecordCount;
    private long _duplicateBatches;

    /// <summary>Creates the state of a shard that applied nothing yet.</summary>
    public ShardStateMachine()
    {
        Applied = new WatermarkWaiters(() => Volatile.Read(ref _appliedIndex));
    }

    /// <summary>The last applied index: readers see records up to here (and up to the seal).</summary>
    public long AppliedIndex => Volatile.Read(ref _appliedIndex);

    /// <summary>The index of the seal, or 0 while the shard is open.</summary>
    public long SealIndex => Volatile.Read(ref _sealIndex);

    /// <summary>The last applied batch of records (0: none yet).</summary>
    public long LastRecordIndex => Volatile.Read(ref _lastRecordIndex);

    /// <summary>Records in the batch at <see cref="LastRecordIndex"/>.</summary>
    public int LastRecordCount => Volatile.Read(ref _lastRecordCount);

    /// <summary>The arrival time of the newest applied record, Unix milliseconds (0: none yet).</summary>
    public long LastArrivalMs => Volatile.Read(ref _lastArrivalMs);

    /// <summary>Batches of an idempotent producer that reached the log twice (never expected).</summary>
    public long DuplicateBatches => Volatile.Read(ref _duplicateBatches);

    /// <summary>Waiters for <see cref="AppliedIndex"/>.</summary>
    public WatermarkWaiters Applied { get; }

    /// <summary>True when the batch at <paramref name="index"/>, already applied, is void because the shard was sealed before it.</summary>
    public bool IsVoid(long index)
    {
        var seal = SealIndex;
        return seal != 0 && index > seal;
    }

    /// <summary>The producer's batch with <paramref name="sequence"/> and its latest batch, as applied.</summary>
    public (ProducerBatch? Match, ProducerBatch? Latest) FindProducerBatch(ulong producerId, int sequence)
    {
        lock (_producersLock)
        {
            return (_producers.Find(producerId, sequence), _producers.Latest(producerId));
        }
    }

    /// <inheritdoc/>
    public ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
    {
        foreach (var entry in committed)
        {
            if (entry.Type == EntryType.Normal && entry.Data.Length >= BatchHeader.Size)
            {
                Apply(entry.Index, entry.Data.Span);
            }

            Volatile.Write(ref _appliedIndex, entry.Index);
        }

        Applied.Advance(AppliedIndex);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken)
    {
        var snapshot = new ShardSnapshot { SealIndex = SealIndex, LastRecordIndex = LastRecordIndex, LastRecordCount = LastRecordCount, LastArrivalMs = LastArrivalMs };
        lock (_producersLock)
        {
            _producers.WriteTo(snapshot);
        }

        return ValueTask.FromResult<ReadOnlyMemory<byte>>(snapshot.ToByteArray());
    }

    /// <inheritdoc/>
    public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var state = snapshot.Data.IsEmpty ? new ShardSnapshot() : ShardSnapshot.Parser.ParseFrom(snapshot.Data.Span);
        lock (_producersLock)
        {
            _producers.ReadFrom(state);
        }

        Volatile.Write(ref _sealIndex, state.SealIndex);
        Volatile.Write(ref _lastRecordIndex, state.LastRecordIndex);
        Volatile.Write(ref _lastRecordCount, state.LastRecordCount);
        Volatile.Write(ref _lastArrivalMs, state.LastArrivalMs);
        Volatile.Write(ref _appliedIndex, snapshot.Metadata.Index);
        Applied.Advance(snapshot.Metadata.Index);
        return ValueTask.CompletedTask;
    }

    private void Apply(long index, ReadOnlySpan<byte> batch)
    {
        var header = BatchHeader.Read(batch);
        if ((header.Attributes & BatchAttributes.Control) != 0)
        {
            var payload = batch[BatchHeader.Size..];
            if (payload.Length > 0 && payload[0] == (byte)ShardControlKind.Seal && SealIndex == 0)
            {
                Volatile.Write(ref _sealIndex, index);
            }

            return;
        }

        if (IsVoid(index))
        {
            return;
        }

        if (header.ProducerId > 0)
        {
            lock (_producersLock)
            {
                if (!_producers.Record((ulong)header.ProducerId, new ProducerBatch(header.ProducerSequence, index, header.RecordCount)))
                {
                    Interlocked.Increment(ref _duplicateBatches);
                }
            }
        }

        Volatile.Write(ref _lastRecordCount, header.RecordCount);
        Volatile.Write(ref _lastRecordIndex, index);
        Volatile.Write(ref _lastArrivalMs, Math.Max(LastArrivalMs, header.MaxTimestampMs));
    }
}
