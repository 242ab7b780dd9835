namespace Streams.Client.Consuming;

/// <summary>
/// A record as a <see cref="Consumer"/> hands it to the application: where it comes from (stream,
/// shard, sequence number), its partition key, data and arrival time. Pass it to
/// <see cref="Consumer.CheckpointAsync(ConsumedRecord, CancellationToken)"/> to checkpoint up to it.
/// </summary>
public sealed class ConsumedRecord
{
    internal ConsumedRecord(ShardReader reader, string sequenceNumber, string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, DateTimeOffset approximateArrivalTimestamp)
    {
        Reader = reader;
        SequenceNumber = sequenceNumber;
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Data = data;
        ApproximateArrivalTimestamp = approximateArrivalTimestamp;
    }

    /// <summary>The stream.</summary>
    public string StreamName => Reader.Context.StreamName;

    /// <summary>The shard the record was read from.</summary>
    public string ShardId => Reader.ShardId;

    /// <summary>Its sequence number in the shard: records of a shard come in increasing order.</summary>
    public string SequenceNumber { get; }

    /// <summary>The partition key it was written with.</summary>
    public string PartitionKey { get; }

    /// <summary>The explicit hash key it was written with, or null.</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>When the cluster received it.</summary>
    public DateTimeOffset ApproximateArrivalTimestamp { get; }

    /// <summary>The epoch of the lease the record was read under; a checkpoint carries it, so one made after the lease moved is refused.</summary>
    public long LeaseEpoch => Reader.Epoch;

    /// <summary>The reader that read it: checkpoints go through it, under its lease.</summary>
    internal ShardReader Reader { get; }

    /// <inheritdoc />
    public override string ToString() => $"{StreamName}/{ShardId}/{SequenceNumber}";
}
