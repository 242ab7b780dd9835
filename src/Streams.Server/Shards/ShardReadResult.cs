using Streams.Server.Routing;
using Record = Streams.V1.Record;

namespace Streams.Server.Shards;

/// <summary>What one read of a shard found.</summary>
/// <param name="Records">The committed records read, in order.</param>
/// <param name="Next">Where the next read starts.</param>
/// <param name="EndOfShard">The shard is closed and every record was read: go on with its children.</param>
/// <param name="MillisBehindLatest">How far the last record returned is behind the newest in the shard; 0 when caught up.</param>
internal sealed record ShardReadResult(List<Record> Records, SequenceNumber Next, bool EndOfShard, long MillisBehindLatest);
