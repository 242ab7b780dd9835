using System.Buffers;

namespace Streams.Client.Producing;

/// <summary>
/// Records bound for one shard, sent as one PutRecords: their encoded entries in one pooled buffer,
/// a slot per record, and where the batch stands in its <see cref="ShardQueue"/> (sequence,
/// attempts, backoff). The queue decides; the producer writes the bytes and sends.
/// </summary>
internal sealed class ProducerBatch
{
    private const int InitialPayloadBytes = 16 * 1024;
    private const int InitialRecords = 64;

    private byte[] _payload = [];
    private RecordSlot[] _records = [];

    /// <summary>Creates an empty batch.</summary>
    /// <param name="openedAt">When its first record came (a <see cref="TimeProvider"/> timestamp): its linger starts then.</param>
    /// <param name="generation">The flush generation of its records (<see cref="FlushTracker"/>).</param>
    public ProducerBatch(long openedAt, long generation)
    {
        OpenedAt = openedAt;
        Generation = generation;
    }

    /// <summary>When its first record came.</summary>
    public long OpenedAt { get; }

    /// <summary>The flush generation of its records.</summary>
    public long Generation { get; }

    /// <summary>Where it is in its queue.</summary>
    public BatchState State { get; set; }

    /// <summary>Its producer sequence in its shard, or -1 before it was first sent under the queue's current producer id.</summary>
    public long Sequence { get; set; } = -1;

    /// <summary>The producer id it was sent with (0 without idempotence).</summary>
    public ulong ProducerId { get; set; }

    /// <summary>Failed attempts so far: the backoff grows with them.</summary>
    public int Attempts { get; set; }

    /// <summary>The timestamp before which it is not sent again (a backoff).</summary>
    public long NotBefore { get; set; }

    /// <summary>Refused as out of order: sent again once every batch before it is acknowledged or sent again.</summary>
    public bool AwaitsPredecessors { get; set; }

    /// <summary>The queue's send count when it was refused as out of order.</summary>
    public long RefusedAt { get; set; }

    /// <summary>The queue's send count at its latest attempt.</summary>
    public long SentAt { get; set; }

    /// <summary>
    /// Its latest attempt went out while an earlier batch of its queue was unacknowledged: a refusal
    /// of it as out of order may only mean that it overtook that batch.
    /// </summary>
    public bool SentBehind { get; set; }

    /// <summary>
    /// INVALID_ARGUMENT for an idempotent batch: its records may now map to several shards (its shard
    /// was split), or the request is bad. The next shard map tells which.
    /// </summary>
    public StreamsException? Refusal { get; set; }

    /// <summary>The id of its current attempt on a Produce stream (batch_id), unique within the producer.</summary>
    public ulong AttemptId { get; set; }

    /// <summary>When its current attempt was sent (a <see cref="TimeProvider"/> timestamp).</summary>
    public long SentTimestamp { get; set; }

    /// <summary>The stream's name in UTF-8, for the request.</summary>
    public byte[] StreamNameUtf8 { get; set; } = [];

    /// <summary>Records in it.</summary>
    public int RecordCount { get; private set; }

    /// <summary>The bytes of its encoded entries.</summary>
    public int PayloadLength { get; private set; }

    /// <summary>What it counts against the producer's buffer bound.</summary>
    public long AccountedBytes => PayloadLength + ((long)RecordCount * Producer.RecordOverheadBytes);

    /// <summary>The encoded entries.</summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, PayloadLength);

    /// <summary>Record <paramref name="index"/>'s slot.</summary>
    public ref readonly RecordSlot Record(int index) => ref _records[index];

    /// <summary>Adds a record whose entry is <paramref name="entryLength"/> bytes; returns where to write the entry.</summary>
    public Span<byte> Add(TaskCompletionSource<RecordResult>? completion, UInt128 hashKey, int entryLength)
    {
        if (RecordCount == _records.Length)
        {
            _records = Grow(_records, Math.Max(InitialRecords, RecordCount * 2), RecordCount, clear: true);
        }

        if (PayloadLength + entryLength > _payload.Length)
        {
            _payload = Grow(_payload, Math.Max(Math.Max(InitialPayloadBytes, _payload.Length * 2), PayloadLength + entryLength), PayloadLength, clear: false);
        }

        _records[RecordCount++] = new RecordSlot { Completion = completion, HashKey = hashKey, Offset = PayloadLength, Length = entryLength };
        var destination = _payload.AsSpan(PayloadLength, entryLength);
        PayloadLength += entryLength;
        return destination;
    }

    /// <summary>Copies record <paramref name="index"/> (its entry and whoever waits for it) to the end of <paramref name="target"/>.</summary>
    public void CopyRecordTo(int index, ProducerBatch target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var slot = _records[index];
        _payload.AsSpan(slot.Offset, slot.Length).CopyTo(target.Add(slot.Completion, slot.HashKey, slot.Length));
    }

    /// <summary>Hands the buffers back to their pools; the batch is empty afterwards.</summary>
    public void Release()
    {
        if (_payload.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_payload);
        }

        if (_records.Length > 0)
        {
            // Cleared: the slots hold completion sources, which the pool must not keep alive.
            ArrayPool<RecordSlot>.Shared.Return(_records, clearArray: true);
        }

        _payload = [];
        _records = [];
        RecordCount = 0;
        PayloadLength = 0;
    }

    private static T[] Grow<T>(T[] current, int length, int used, bool clear)
    {
        var grown = ArrayPool<T>.Shared.Rent(length);
        current.AsSpan(0, used).CopyTo(grown);
        if (current.Length > 0)
        {
            ArrayPool<T>.Shared.Return(current, clear);
        }

        return grown;
    }
}
