using Streams.Server.Routing;

namespace Streams.Server.Api;

/// <summary>What a shard iterator says, once its signature was checked.</summary>
/// <param name="StreamId">The stream's never-reused id: an iterator of a deleted stream does not read a new one of the same name.</param>
/// <param name="GroupId">The shard's Raft group, unique in the cluster.</param>
/// <param name="Position">The next record to read.</param>
/// <param name="MinArrivalMs">Records that arrived earlier are skipped (AT_TIMESTAMP); 0 for none.</param>
/// <param name="IssuedAtMs">When the iterator was made, Unix milliseconds; it expires five minutes later.</param>
internal readonly record struct ShardIterator(long StreamId, long GroupId, SequenceNumber Position, long MinArrivalMs, long IssuedAtMs);
