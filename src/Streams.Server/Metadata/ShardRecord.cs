using System.Collections.Immutable;
using Streams.Server.Routing;

namespace Streams.Server.Metadata;

/// <summary>
/// One shard of a stream as the controller knows it: its hash-key range, lineage, lifetime, Raft
/// group and replicas. Immutable; the controller replaces it when something changes.
/// </summary>
public sealed record ShardRecord
{
    /// <summary>The shard's number in its stream (0, 1, 2, ... in creation order).</summary>
    public required int ShardNumber { get; init; }

    /// <summary>The shard id, <c>shardId-</c> and the number in 12 digits.</summary>
    public required string ShardId { get; init; }

    /// <summary>The shard's Raft group: unique in the cluster, never reused.</summary>
    public required long GroupId { get; init; }

    /// <summary>The hash keys the shard holds.</summary>
    public required HashKeyRange HashKeyRange { get; init; }

    /// <summary>
    /// Every parent: the parent, then the adjacent parent, then (after UpdateShardCount) any others
    /// in hash-key order. Empty for a stream's first shards.
    /// </summary>
    public ImmutableArray<string> ParentShardIds { get; init; } = [];

    /// <summary>The first parent, or null.</summary>
    public string? ParentShardId => ParentShardIds.Length > 0 ? ParentShardIds[0] : null;

    /// <summary>The second parent, or null.</summary>
    public string? AdjacentParentShardId => ParentShardIds.Length > 1 ? ParentShardIds[1] : null;

    /// <summary>True while the shard takes writes; false once split, merged or rescaled away.</summary>
    public required bool IsOpen { get; init; }

    /// <summary>When the shard was created (the proposing leader's clock).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the shard was closed, or null while it is open.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>The lowest sequence number the shard can hold (its log's first index).</summary>
    public required SequenceNumber StartingSequenceNumber { get; init; }

    /// <summary>The last sequence number of a closed shard, once its group reported the seal; else null.</summary>
    public SequenceNumber? EndingSequenceNumber { get; init; }

    /// <summary>The nodes holding a replica; the first is the preferred leader.</summary>
    public required ImmutableArray<string> Replicas { get; init; }

    /// <summary>The node that should lead the group when all is well.</summary>
    public string PreferredLeader => Replicas[0];

    /// <summary>The leader last reported by the group, or null before the first report.</summary>
    public string? Leader { get; init; }

    /// <summary>The Raft term of <see cref="Leader"/> (0 before the first report).</summary>
    public long LeaderTerm { get; init; }

    /// <summary>True when the shard was open at <paramref name="time"/> (created at or before it, closed at or after it or not at all).</summary>
    /// <param name="time">The time.</param>
    public bool WasOpenAt(DateTimeOffset time) => CreatedAt <= time && (IsOpen || ClosedAt >= time);

    /// <summary>Equal when every property is, the lists element by element (a property added above belongs here too).</summary>
    /// <param name="other">The other shard.</param>
    public bool Equals(ShardRecord? other) =>
        other is not null
        && ShardNumber == other.ShardNumber
        && ShardId == other.ShardId
        && GroupId == other.GroupId
        && HashKeyRange == other.HashKeyRange
        && ParentShardIds.SequenceEqual(other.ParentShardIds)
        && IsOpen == other.IsOpen
        && CreatedAt == other.CreatedAt
        && ClosedAt == other.ClosedAt
        && StartingSequenceNumber == other.StartingSequenceNumber
        && EndingSequenceNumber == other.EndingSequenceNumber
        && Replicas.SequenceEqual(other.Replicas)
        && Leader == other.Leader
        && LeaderTerm == other.LeaderTerm;

    /// <summary>A hash of the scalar properties.</summary>
    public override int GetHashCode() => HashCode.Combine(ShardNumber, GroupId, HashKeyRange, IsOpen, Leader, LeaderTerm);
}
