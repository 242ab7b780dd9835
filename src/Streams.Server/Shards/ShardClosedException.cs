namespace Streams.Server.Shards;

/// <summary>
/// A write reached a shard after it was sealed (split, merged or rescaled): nothing of it was
/// written. The caller routes the records again with the stream's current shards.
/// </summary>
internal sealed class ShardClosedException(string shard) : Exception($"Shard {shard} is closed; its records go to its child shards now.")
{
}
