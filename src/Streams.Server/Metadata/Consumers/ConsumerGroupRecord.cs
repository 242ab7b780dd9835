using System.Collections.Immutable;
using Streams.V1;

namespace Streams.Server.Metadata.Consumers;

/// <summary>
/// A consumer group of one stream as the controller knows it: its live members, and per shard the
/// checkpoint, the end mark and the lease. Immutable; the controller replaces it on every command.
/// </summary>
public sealed record ConsumerGroupRecord
{
    /// <summary>The group's name (the application's), unique in its stream.</summary>
    public required string Name { get; init; }

    /// <summary>Where members start on a shard the group has no checkpoint for: TRIM_HORIZON or LATEST.</summary>
    public required InitialPosition InitialPosition { get; init; }

    /// <summary>When the group was created (the proposing node's clock).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// How many shards the stream had when the group was created: shards numbered from here on
    /// were made by a later reshard, so they are read from their beginning whatever the initial position.
    /// </summary>
    public required int ShardCountAtCreation { get; init; }

    /// <summary>The time of the group's latest command: the group's clock, which never goes back.</summary>
    public required DateTimeOffset LastSeenAt { get; init; }

    /// <summary>Counts rebalances: it grows whenever a lease changes hands.</summary>
    public long Generation { get; init; }

    /// <summary>The live members, by id (ordinal order).</summary>
    public ImmutableSortedDictionary<string, GroupMemberRecord> Members { get; init; } = ImmutableSortedDictionary.Create<string, GroupMemberRecord>(StringComparer.Ordinal);

    /// <summary>The shards the group has any state for, by shard id (so in shard order); the others are <see cref="GroupShard.None"/>.</summary>
    public ImmutableSortedDictionary<string, GroupShard> Shards { get; init; } = ImmutableSortedDictionary.Create<string, GroupShard>(StringComparer.Ordinal);

    /// <summary>The group's state of a shard.</summary>
    /// <param name="shardId">The shard id.</param>
    public GroupShard ShardState(string shardId) => Shards.TryGetValue(shardId, out var state) ? state : GroupShard.None;

    /// <summary>The shards leased to <paramref name="memberId"/>, in shard id order.</summary>
    /// <param name="memberId">The member.</param>
    public IEnumerable<KeyValuePair<string, GroupShard>> LeasesOf(string memberId) =>
        Shards.Where(pair => pair.Value.Owner == memberId);

    /// <summary>Equal when every property is, the members and shards element by element.</summary>
    /// <param name="other">The other group.</param>
    public bool Equals(ConsumerGroupRecord? other) =>
        other is not null
        && Name == other.Name
        && InitialPosition == other.InitialPosition
        && CreatedAt == other.CreatedAt
        && ShardCountAtCreation == other.ShardCountAtCreation
        && LastSeenAt == other.LastSeenAt
        && Generation == other.Generation
        && Members.Values.SequenceEqual(other.Members.Values)
        && Shards.Keys.SequenceEqual(other.Shards.Keys)
        && Shards.Values.SequenceEqual(other.Shards.Values);

    /// <summary>A hash of the scalar properties.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, InitialPosition, CreatedAt, Generation, Members.Count, Shards.Count);
}
