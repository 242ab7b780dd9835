using System.Collections.Immutable;

namespace Streams.Server.Metadata.Consumers;

/// <summary>
/// Hands a consumer group's leasable shards to its live members: evenly (the counts differ by at
/// most one) and sticky (a lease stays where it is unless its holder is over its share). Pure: the
/// same shards, state and members give the same leases on every node.
/// </summary>
/// <remarks>
/// A shard is leasable when the group has not read it to its end and every parent has been (or
/// is no longer in the stream): records of a partition key in a parent come before those in the
/// child, so a child is read only once its parents were read to their end.
/// </remarks>
public static class LeaseAssigner
{
    /// <summary>The shards that need a lease now, in shard id order.</summary>
    /// <param name="shards">The stream's shards.</param>
    /// <param name="state">The group's state per shard (a shard missing has none).</param>
    public static ImmutableArray<string> Leasable(IReadOnlyList<ShardRecord> shards, ImmutableSortedDictionary<string, GroupShard> state)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(state);
        var ids = shards.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
        bool Ended(string id) => state.TryGetValue(id, out var s) && s.ShardEnd;
        return [.. shards
            .Where(s => !Ended(s.ShardId) && s.ParentShardIds.All(p => Ended(p) || !ids.Contains(p)))
            .Select(s => s.ShardId)
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The leases after a change of members or shards. With S leasable shards over M members each
    /// member gets S/M rounded down or up; the members holding the most now get the rounded-up
    /// shares, so as little as possible moves. A member keeps its lowest shard ids up to its share
    /// and releases the rest; unleased shards go, in id order, to the member under its share holding
    /// the fewest (then the lowest id). A shard granted gets the next epoch; a shard no longer
    /// leasable, or held by a member no longer live, is released.
    /// </summary>
    /// <param name="shards">The stream's shards.</param>
    /// <param name="state">The group's state per shard.</param>
    /// <param name="liveMembers">The live members' ids.</param>
    public static LeaseAssignment Assign(IReadOnlyList<ShardRecord> shards, ImmutableSortedDictionary<string, GroupShard> state, IEnumerable<string> liveMembers)
    {
        ArgumentNullException.ThrowIfNull(liveMembers);
        var leasable = Leasable(shards, state);
        var leasableSet = leasable.ToHashSet(StringComparer.Ordinal);
        var members = liveMembers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var held = members.ToDictionary(m => m, _ => new List<string>(), StringComparer.Ordinal);
        var next = state.ToBuilder();

        // Leases that no longer make sense go first: the shard ended or waits for a parent, or its holder is gone.
        foreach (var (id, shard) in state)
        {
            if (shard.Owner is null)
            {
                continue;
            }

            if (leasableSet.Contains(id) && held.TryGetValue(shard.Owner, out var mine))
            {
                mine.Add(id);
            }
            else
            {
                next[id] = shard with { Owner = null };
            }
        }

        if (members.Count > 0)
        {
            var quota = Quotas(members, held, leasable.Length);
            foreach (var member in members)
            {
                var mine = held[member];
                foreach (var surplus in mine.Skip(quota[member]))
                {
                    next[surplus] = next[surplus] with { Owner = null };
                }

                if (mine.Count > quota[member])
                {
                    mine.RemoveRange(quota[member], mine.Count - quota[member]);
                }
            }

            var owned = held.Values.SelectMany(ids => ids).ToHashSet(StringComparer.Ordinal);
            foreach (var id in leasable.Where(id => !owned.Contains(id)))
            {
                var taker = members.Where(m => held[m].Count < quota[m]).MinBy(m => held[m].Count)!;
                var current = next.TryGetValue(id, out var s) ? s : GroupShard.None;
                next[id] = current with { Owner = taker, Epoch = current.Epoch + 1 };
                held[taker].Add(id);
            }
        }

        var result = next.ToImmutable();
        var moved = result.Any(pair => !state.TryGetValue(pair.Key, out var before) ? pair.Value.Owner is not null : before.Owner != pair.Value.Owner);
        return new LeaseAssignment(moved ? result : state, moved);
    }

    // Each member's share: all get S/M rounded down, and the S mod M holding the most now (then
    // the lowest ids) one more, so the members that must give up leases are as few as possible.
    private static Dictionary<string, int> Quotas(List<string> members, Dictionary<string, List<string>> held, int shardCount)
    {
        var share = shardCount / members.Count;
        var extra = shardCount % members.Count;
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = members.OrderByDescending(m => held[m].Count).ThenBy(m => m, StringComparer.Ordinal).ToList();
        for (var i = 0; i < order.Count; i++)
        {
            quota[order[i]] = share + (i < extra ? 1 : 0);
        }

        return quota;
    }
}
