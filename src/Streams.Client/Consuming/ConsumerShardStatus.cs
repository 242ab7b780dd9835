namespace Streams.Client.Consuming;

/// <summary>One shard a <see cref="Consumer"/> holds a lease on: how far it got and how far behind it is.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="LeaseEpoch">The epoch of this consumer's lease on it.</param>
/// <param name="MillisBehindLatest">How far the last read left the consumer behind the shard's newest record, in milliseconds (0 when caught up or not read yet).</param>
/// <param name="LastProcessedSequenceNumber">The last record the application finished, or null.</param>
/// <param name="LastCheckpointedSequenceNumber">The group's checkpoint as this consumer knows it, or null.</param>
/// <param name="RecordsProcessed">Records processed since this consumer got the lease.</param>
public sealed record ConsumerShardStatus(
    string ShardId,
    long LeaseEpoch,
    long MillisBehindLatest,
    string? LastProcessedSequenceNumber,
    string? LastCheckpointedSequenceNumber,
    long RecordsProcessed);
