namespace Streams.Client.Consuming;

/// <summary>The records of one read of one shard, in sequence order, as a <see cref="Consumer"/> hands them to a batch handler.</summary>
public sealed class ConsumedRecordBatch
{
    internal ConsumedRecordBatch(ShardReader reader, IReadOnlyList<ConsumedRecord> records, long millisBehindLatest)
    {
        Reader = reader;
        Records = records;
        MillisBehindLatest = millisBehindLatest;
    }

    /// <summary>The stream.</summary>
    public string StreamName => Reader.Context.StreamName;

    /// <summary>The shard.</summary>
    public string ShardId => Reader.ShardId;

    /// <summary>The records (at least one), in sequence order.</summary>
    public IReadOnlyList<ConsumedRecord> Records { get; }

    /// <summary>How far the last record is behind the shard's newest, in milliseconds (0 when caught up).</summary>
    public long MillisBehindLatest { get; }

    internal ShardReader Reader { get; }
}
