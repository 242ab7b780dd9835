namespace Streams.Client.Producing;

/// <summary>Where an acknowledged record was written.</summary>
/// <param name="ShardId">The shard holding it.</param>
/// <param name="SequenceNumber">Its sequence number in that shard: within a shard, a later record of the producer has a larger one.</param>
public readonly record struct RecordResult(string ShardId, string SequenceNumber);
