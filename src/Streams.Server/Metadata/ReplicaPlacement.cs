using System.Collections.Immutable;
using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>
/// Where shard replicas go. Pure: it reads the metadata and answers, the same on every node.
/// Load is counted on open shards of streams that are not being deleted (they take the writes);
/// closed shards only move off a leaving node. Ties are broken by node id, ordinally.
/// </summary>
public static class ReplicaPlacement
{
    /// <summary>
    /// Replica sets for <paramref name="shardCount"/> new shards, the least-loaded nodes first and
    /// the preferred leader (first of each set) the node leading the fewest; null when fewer nodes
    /// take replicas than <paramref name="replicationFactor"/>.
    /// </summary>
    /// <param name="metadata">The state the shards are added to.</param>
    /// <param name="shardCount">How many shards.</param>
    /// <param name="replicationFactor">Replicas per shard.</param>
    /// <param name="closingGroupIds">Groups of shards the same command closes: they no longer count as load.</param>
    public static ImmutableArray<ImmutableArray<string>>? Place(ClusterMetadata metadata, int shardCount, int replicationFactor, IReadOnlySet<long>? closingGroupIds = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        var loads = MeasureLoads(metadata, closingGroupIds);
        if (loads.Count < replicationFactor)
        {
            return null;
        }

        var sets = new List<List<NodeLoad>>(shardCount);
        for (var i = 0; i < shardCount; i++)
        {
            var byReplicas = loads.OrderBy(l => l.Replicas).ThenBy(l => l.Leaders).ThenBy(l => l.NodeId, StringComparer.Ordinal).ToList();

            // Any node as loaded as the least-loaded set's most loaded one keeps replicas even, so
            // the leader is the one among those leading the fewest; the rest fill by replicas.
            var threshold = byReplicas[replicationFactor - 1].Replicas;
            var leader = byReplicas.Where(l => l.Replicas <= threshold).OrderBy(l => l.Leaders).ThenBy(l => l.Replicas).ThenBy(l => l.NodeId, StringComparer.Ordinal).First();
            var chosen = byReplicas.Where(l => l != leader).Take(replicationFactor - 1).Prepend(leader).ToList();
            foreach (var load in chosen)
            {
                load.Replicas++;
            }

            leader.Leaders++;
            sets.Add(chosen);
        }

        SpreadLeaders(sets);
        return [.. sets.Select(set => set.Select(l => l.NodeId).ToImmutableArray())];
    }

    /// <summary>
    /// The next replica move toward an even spread, or null when there is nothing to do. A move
    /// under way (<see cref="ClusterMetadata.PendingMove"/>) comes back until it is finished or
    /// abandoned: one move at a time. Otherwise, first every replica of a leaving node moves to
    /// the least-loaded node that lacks the shard; then, while two nodes differ by more than one
    /// open replica, one moves from the most to the least loaded (preferring a shard the giver is
    /// preferred leader of when it leads more than the taker, which spreads leaders too).
    /// </summary>
    /// <param name="metadata">The state.</param>
    public static ReplicaMove? PlanNextMove(ClusterMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.PendingMove is { } pending)
        {
            return pending;
        }

        var loads = MeasureLoads(metadata, closingGroupIds: null);
        if (loads.Count == 0)
        {
            return null;
        }

        var live = metadata.Streams.Values.Where(s => s.Status != StreamStatus.Deleting).ToList();
        foreach (var leaving in metadata.Nodes.Values.Where(n => n.Role == MemberRole.Leaving))
        {
            foreach (var shard in live.SelectMany(s => s.Shards).Where(s => Holds(s, leaving.NodeId)))
            {
                var target = loads
                    .Where(l => !Holds(shard, l.NodeId))
                    .OrderBy(l => l.Replicas).ThenBy(l => l.Leaders).ThenBy(l => l.NodeId, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (target is not null)
                {
                    return new ReplicaMove(shard.GroupId, leaving.NodeId, target.NodeId);
                }
            }
        }

        var openShards = live.SelectMany(s => s.Shards).Where(s => s.IsOpen).ToList();
        var givers = loads.OrderByDescending(l => l.Replicas).ThenBy(l => l.NodeId, StringComparer.Ordinal).ToList();
        var takers = loads.OrderBy(l => l.Replicas).ThenBy(l => l.NodeId, StringComparer.Ordinal).ToList();
        foreach (var giver in givers)
        {
            foreach (var taker in takers)
            {
                if (giver.Replicas - taker.Replicas < 2)
                {
                    break;
                }

                var candidates = openShards.Where(s => Holds(s, giver.NodeId) && !Holds(s, taker.NodeId)).ToList();
                var wantLeader = giver.Leaders > taker.Leaders;
                var shard = candidates.FirstOrDefault(s => (s.PreferredLeader == giver.NodeId) == wantLeader) ?? candidates.FirstOrDefault();
                if (shard is not null)
                {
                    return new ReplicaMove(shard.GroupId, giver.NodeId, taker.NodeId);
                }
            }
        }

        return null;
    }

    // Greedy placement can leave a node leading two more than another. Leadership among the new
    // shards is handed along a chain (A leads a shard B holds, B leads one C holds, ...) from the
    // busiest leader to one leading at least two fewer: no data moves, the nodes in between keep
    // their counts. Each hand-over lowers the sum of squared leader counts, so it ends.
    private static void SpreadLeaders(List<List<NodeLoad>> sets)
    {
        var handedOver = true;
        while (handedOver)
        {
            handedOver = TryHandOver(sets);
        }
    }

    private static bool TryHandOver(List<List<NodeLoad>> sets)
    {
        var ledBy = sets.ToLookup(set => set[0]);
        foreach (var source in ledBy.Select(g => g.Key).OrderByDescending(l => l.Leaders).ThenBy(l => l.NodeId, StringComparer.Ordinal))
        {
            // Breadth-first over "leads a new shard that the next node holds", remembering the shard.
            var via = new Dictionary<NodeLoad, (NodeLoad From, List<NodeLoad> Set)> { [source] = (source, []) };
            var queue = new Queue<NodeLoad>([source]);
            while (queue.TryDequeue(out var node))
            {
                foreach (var set in ledBy[node])
                {
                    foreach (var next in set.Skip(1).Where(n => !via.ContainsKey(n)))
                    {
                        via[next] = (node, set);
                        if (next.Leaders + 1 < source.Leaders)
                        {
                            for (var at = next; at != source; at = via[at].From)
                            {
                                var hop = via[at].Set;
                                hop[hop.IndexOf(at)] = hop[0];
                                hop[0] = at;
                            }

                            source.Leaders--;
                            next.Leaders++;
                            return true;
                        }

                        queue.Enqueue(next);
                    }
                }
            }
        }

        return false;
    }

    private static bool Holds(ShardRecord shard, string nodeId) => shard.Replicas.Contains(nodeId, StringComparer.Ordinal);

    // Open replicas and preferred leaderships of each node that takes replicas.
    private static List<NodeLoad> MeasureLoads(ClusterMetadata metadata, IReadOnlySet<long>? closingGroupIds)
    {
        var loads = metadata.ReplicaNodes.Select(n => new NodeLoad(n.NodeId)).ToList();
        var byId = loads.ToDictionary(l => l.NodeId, StringComparer.Ordinal);
        var counted = metadata.Streams.Values
            .Where(s => s.Status != StreamStatus.Deleting)
            .SelectMany(s => s.Shards)
            .Where(s => s.IsOpen && closingGroupIds?.Contains(s.GroupId) != true);
        foreach (var shard in counted)
        {
            foreach (var replica in shard.Replicas)
            {
                if (byId.TryGetValue(replica, out var load))
                {
                    load.Replicas++;
                }
            }

            if (byId.TryGetValue(shard.PreferredLeader, out var leader))
            {
                leader.Leaders++;
            }
        }

        return loads;
    }

    private sealed class NodeLoad(string nodeId)
    {
        public string NodeId { get; } = nodeId;

        public int Replicas { get; set; }

        public int Leaders { get; set; }
    }
}
