namespace Streams.Server.Api;

/// <summary>What became of the records sent to one shard in one attempt.</summary>
internal enum ShardWriteOutcome
{
    /// <summary>Written: their results are set.</summary>
    Written,

    /// <summary>Certainly not written (no leader, leader changed before proposing, shard closed): route and try again.</summary>
    Retry,

    /// <summary>The write may or may not have landed: only an idempotent write is tried again.</summary>
    Ambiguous,
}
