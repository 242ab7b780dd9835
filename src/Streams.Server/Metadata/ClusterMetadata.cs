using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Streams.Server.Metadata.Firehose;
using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>
/// The controller's state at one point of its log: nodes, streams and their shards, counters and
/// the iterator secret. Immutable: applying a command makes a new one, so readers on other threads
/// take <see cref="ControllerState.Current"/> once and see a consistent picture.
/// </summary>
public sealed record ClusterMetadata
{
    /// <summary>The controller's own Raft group; shard groups are numbered after it.</summary>
    public const long ControllerGroupId = 1;

    /// <summary>The size of <see cref="IteratorSecret"/>.</summary>
    public const int IteratorSecretLength = 32;

    /// <summary>The state before Bootstrap.</summary>
    public static ClusterMetadata Empty { get; } = new();

    /// <summary>True once Bootstrap was applied.</summary>
    public bool IsBootstrapped { get; init; }

    /// <summary>When the cluster was bootstrapped.</summary>
    public DateTimeOffset BootstrappedAt { get; init; }

    /// <summary>The key that signs shard iterators, the same on every node.</summary>
    public ImmutableArray<byte> IteratorSecret { get; init; } = [];

    /// <summary>The limits in force.</summary>
    public MetadataLimits Limits { get; init; } = MetadataLimits.Default;

    /// <summary>The id the next stream gets.</summary>
    public long NextStreamId { get; init; } = 1;

    /// <summary>The Raft group id the next shard gets.</summary>
    public long NextGroupId { get; init; } = ControllerGroupId + 1;

    /// <summary>The Raft id the next node added without one gets.</summary>
    public long NextNodeRaftId { get; init; } = 1;

    /// <summary>The members, by node id.</summary>
    public ImmutableSortedDictionary<string, NodeRecord> Nodes { get; init; } = ImmutableSortedDictionary.Create<string, NodeRecord>(StringComparer.Ordinal);

    /// <summary>The streams, by name (ordinal order).</summary>
    public ImmutableSortedDictionary<string, StreamRecord> Streams { get; init; } = ImmutableSortedDictionary.Create<string, StreamRecord>(StringComparer.Ordinal);

    /// <summary>Every shard's place, by Raft group id.</summary>
    public ImmutableDictionary<long, ShardAddress> ShardsByGroup { get; init; } = ImmutableDictionary<long, ShardAddress>.Empty;

    /// <summary>The delivery streams, by name (ordinal order).</summary>
    public ImmutableSortedDictionary<string, DeliveryStreamRecord> DeliveryStreams { get; init; } = ImmutableSortedDictionary.Create<string, DeliveryStreamRecord>(StringComparer.Ordinal);

    /// <summary>The replica move under way, or null (there is at most one at a time).</summary>
    public ReplicaMove? PendingMove { get; init; }

    /// <summary>The nodes that take new replicas (voters, not leaving), in id order.</summary>
    public IEnumerable<NodeRecord> ReplicaNodes => Nodes.Values.Where(n => n.TakesReplicas);

    /// <summary>Finds a stream by name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="stream">The stream, when found.</param>
    public bool TryGetStream(string? name, [NotNullWhen(true)] out StreamRecord? stream)
    {
        stream = null;
        return name is not null && Streams.TryGetValue(name, out stream);
    }

    /// <summary>Finds a shard by its Raft group id.</summary>
    /// <param name="groupId">The group id.</param>
    /// <param name="stream">The shard's stream, when found.</param>
    /// <param name="shard">The shard, when found.</param>
    public bool TryGetShard(long groupId, [NotNullWhen(true)] out StreamRecord? stream, [NotNullWhen(true)] out ShardRecord? shard)
    {
        stream = null;
        shard = null;
        if (!ShardsByGroup.TryGetValue(groupId, out var address) || !Streams.TryGetValue(address.StreamName, out stream))
        {
            return false;
        }

        shard = stream.Shards[address.ShardNumber];
        return true;
    }

    /// <summary>ListStreams: up to <paramref name="limit"/> streams in name order after <paramref name="exclusiveStartStreamName"/>.</summary>
    /// <param name="exclusiveStartStreamName">List names after this one, or null for all.</param>
    /// <param name="limit">The most streams to return (at least 1).</param>
    public StreamPage ListStreams(string? exclusiveStartStreamName, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var page = ImmutableArray.CreateBuilder<StreamRecord>(Math.Min(limit, Streams.Count));
        foreach (var stream in Streams.Values)
        {
            if (exclusiveStartStreamName is not null && string.CompareOrdinal(stream.Name, exclusiveStartStreamName) <= 0)
            {
                continue;
            }

            if (page.Count == limit)
            {
                return new StreamPage(page.ToImmutable(), HasMore: true);
            }

            page.Add(stream);
        }

        return new StreamPage(page.ToImmutable(), HasMore: false);
    }

    /// <summary>Replicas and reported leaderships per node, for DescribeCluster (every member appears).</summary>
    public IReadOnlyDictionary<string, NodeShardCounts> ShardCountsByNode()
    {
        var counts = Nodes.Keys.ToDictionary(id => id, _ => new NodeShardCounts(0, 0), StringComparer.Ordinal);
        foreach (var shard in Streams.Values.SelectMany(s => s.Shards))
        {
            foreach (var replica in shard.Replicas)
            {
                if (counts.TryGetValue(replica, out var c))
                {
                    counts[replica] = c with { Replicas = c.Replicas + 1 };
                }
            }

            if (shard.Leader is { } leader && counts.TryGetValue(leader, out var l))
            {
                counts[leader] = l with { Leaders = l.Leaders + 1 };
            }
        }

        return counts;
    }

    /// <summary>How many replicas of any shard (any stream, DELETING ones too) <paramref name="nodeId"/> holds.</summary>
    /// <param name="nodeId">The node.</param>
    public int ReplicaCountOf(string nodeId) =>
        Streams.Values.Sum(s => s.Shards.Count(shard => shard.Replicas.Contains(nodeId, StringComparer.Ordinal)));

    /// <summary>The node's role, or null when it is not a member.</summary>
    /// <param name="nodeId">The node.</param>
    public MemberRole? RoleOf(string nodeId) => Nodes.TryGetValue(nodeId, out var node) ? node.Role : null;

    /// <summary>
    /// Equal when every property is, collections element by element: a restored snapshot equals
    /// the state it was taken from.
    /// </summary>
    /// <param name="other">The other state.</param>
    public bool Equals(ClusterMetadata? other) =>
        other is not null
        && IsBootstrapped == other.IsBootstrapped
        && BootstrappedAt == other.BootstrappedAt
        && IteratorSecret.SequenceEqual(other.IteratorSecret)
        && Limits == other.Limits
        && NextStreamId == other.NextStreamId
        && NextGroupId == other.NextGroupId
        && NextNodeRaftId == other.NextNodeRaftId
        && Nodes.Values.SequenceEqual(other.Nodes.Values)
        && Streams.Values.SequenceEqual(other.Streams.Values)
        && ShardsByGroup.Count == other.ShardsByGroup.Count
        && ShardsByGroup.All(pair => other.ShardsByGroup.TryGetValue(pair.Key, out var address) && address == pair.Value)
        && PendingMove == other.PendingMove
        && DeliveryStreams.Values.SequenceEqual(other.DeliveryStreams.Values);

    /// <summary>A hash of the counters.</summary>
    public override int GetHashCode() => HashCode.Combine(IsBootstrapped, NextStreamId, NextGroupId, NextNodeRaftId, Nodes.Count, Streams.Count);
}
