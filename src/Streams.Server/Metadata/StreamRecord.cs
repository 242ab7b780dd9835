using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>
/// A stream as the controller knows it, with all its shards (open and closed). Immutable; the
/// controller replaces it when something changes, so a reader may keep one and query it at leisure.
/// </summary>
public sealed record StreamRecord
{
    private readonly ImmutableArray<ShardRecord> _shards;
    private readonly ShardRouter? _router;

    /// <summary>The stream's name.</summary>
    public required string Name { get; init; }

    /// <summary>A number never given to another stream, so that a stream deleted and created again is a different stream.</summary>
    public required long StreamId { get; init; }

    /// <summary>CREATING until every shard group has a leader; UPDATING after a reshard until the new groups have leaders and the closed ones sealed; DELETING once deleted.</summary>
    public required StreamStatus Status { get; init; }

    /// <summary>How long records are kept.</summary>
    public required int RetentionHours { get; init; }

    /// <summary>Replicas per shard.</summary>
    public required int ReplicationFactor { get; init; }

    /// <summary>When the stream was created (the proposing leader's clock).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Every shard, indexed by shard number (so in id order).</summary>
    public required ImmutableArray<ShardRecord> Shards
    {
        get => _shards;
        init
        {
            // Built with the shards, never later: a `with` that keeps the shards keeps a router that matches them.
            _shards = value;
            _router = new ShardRouter(value.Where(s => s.IsOpen));
        }
    }

    /// <summary>The stream's consumer groups, by name (ordinal order): they live and die with the stream.</summary>
    public ImmutableSortedDictionary<string, ConsumerGroupRecord> ConsumerGroups { get; init; } = ImmutableSortedDictionary.Create<string, ConsumerGroupRecord>(StringComparer.Ordinal);

    /// <summary>Routes hash keys to the open shards.</summary>
    public ShardRouter Router => _router ?? throw new InvalidOperationException("A stream record always has shards.");

    /// <summary>The open shards in hash-key order.</summary>
    public IReadOnlyList<ShardRecord> OpenShards => Router.Shards;

    /// <summary>How many shards are open.</summary>
    public int OpenShardCount => Router.Shards.Count;

    /// <summary>Finds a shard by id.</summary>
    /// <param name="shardId">The shard id.</param>
    /// <param name="shard">The shard, when found.</param>
    public bool TryGetShard(string? shardId, [NotNullWhen(true)] out ShardRecord? shard)
    {
        shard = ShardIds.TryParse(shardId, out var number) && number < _shards.Length ? _shards[number] : null;
        return shard is not null;
    }

    /// <summary>The shards whose parents include <paramref name="shardId"/>, in id order.</summary>
    /// <param name="shardId">The parent's id.</param>
    public ImmutableArray<ShardRecord> ChildrenOf(string shardId) =>
        [.. _shards.Where(s => s.ParentShardIds.Contains(shardId, StringComparer.Ordinal))];

    /// <summary>
    /// The start of the retained data: <paramref name="now"/> minus the retention, but not before
    /// the stream was created.
    /// </summary>
    /// <param name="now">The current time.</param>
    public DateTimeOffset TrimHorizonAt(DateTimeOffset now)
    {
        var horizon = now - TimeSpan.FromHours(RetentionHours);
        return horizon > CreatedAt ? horizon : CreatedAt;
    }

    /// <summary>
    /// ListShards: the shards in id order after <paramref name="exclusiveStartShardId"/> that pass
    /// <paramref name="filter"/> (null: FROM_TRIM_HORIZON, every shard with retained data). Timestamps
    /// before the trim horizon count as the trim horizon (Kinesis says so for FROM_TIMESTAMP; applied
    /// to AT_TIMESTAMP too, so a time before the stream existed finds its first shards).
    /// </summary>
    /// <param name="filter">The filter, or null.</param>
    /// <param name="exclusiveStartShardId">List shards after this id, or null for all.</param>
    /// <param name="now">The current time, for the trim horizon.</param>
    public IEnumerable<ShardRecord> ListShards(ShardListFilter? filter, string? exclusiveStartShardId, DateTimeOffset now)
    {
        var horizon = TrimHorizonAt(now);
        var type = filter?.Type ?? ShardFilterType.Unspecified;
        var at = filter?.Timestamp is { } timestamp && timestamp > horizon ? timestamp : horizon;
        Func<ShardRecord, bool> passes = type switch
        {
            ShardFilterType.AfterShardId => s => filter?.ShardId is null || string.CompareOrdinal(s.ShardId, filter.ShardId) > 0,
            ShardFilterType.AtTrimHorizon => s => s.WasOpenAt(horizon),
            ShardFilterType.AtLatest => s => s.IsOpen,
            ShardFilterType.AtTimestamp => s => s.WasOpenAt(at),
            ShardFilterType.FromTimestamp => s => s.IsOpen || s.ClosedAt >= at,
            _ => s => s.IsOpen || s.ClosedAt >= horizon,
        };
        return _shards.Where(s => (exclusiveStartShardId is null || string.CompareOrdinal(s.ShardId, exclusiveStartShardId) > 0) && passes(s));
    }

    /// <summary>Equal when every property is, the shards and consumer groups element by element (the router follows from the shards).</summary>
    /// <param name="other">The other stream.</param>
    public bool Equals(StreamRecord? other) =>
        other is not null
        && Name == other.Name
        && StreamId == other.StreamId
        && Status == other.Status
        && RetentionHours == other.RetentionHours
        && ReplicationFactor == other.ReplicationFactor
        && CreatedAt == other.CreatedAt
        && _shards.SequenceEqual(other._shards)
        && ConsumerGroups.Values.SequenceEqual(other.ConsumerGroups.Values);

    /// <summary>A hash of the scalar properties.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, StreamId, Status, RetentionHours, ReplicationFactor, CreatedAt, _shards.Length);
}
