namespace Streams.Server.Shards;

/// <summary>One batch an idempotent producer wrote to a shard: its sequence, the batch's index and its records.</summary>
/// <param name="Sequence">The producer's batch sequence.</param>
/// <param name="Index">The Raft index the batch landed at.</param>
/// <param name="RecordCount">Records in the batch.</param>
internal readonly record struct ProducerBatch(int Sequence, long Index, int RecordCount);
