using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>ListShards' shard filter.</summary>
/// <param name="Type">Which shards (unspecified means FROM_TRIM_HORIZON, as in Kinesis).</param>
/// <param name="ShardId">For AFTER_SHARD_ID: shards whose id sorts after this one.</param>
/// <param name="Timestamp">For AT_TIMESTAMP and FROM_TIMESTAMP.</param>
public sealed record ShardListFilter(ShardFilterType Type, string? ShardId = null, DateTimeOffset? Timestamp = null);
