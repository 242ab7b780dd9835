namespace Streams.Server.Shards;

/// <summary>
/// The first payload byte of a control batch the shard itself proposes. The shard log reserves
/// kinds below 16 for its own entries (a leader's no-op, membership changes).
/// </summary>
internal enum ShardControlKind : byte
{
    /// <summary>Closes the shard: batches of records after it are void (their writers are told the shard closed).</summary>
    Seal = 16,
}
