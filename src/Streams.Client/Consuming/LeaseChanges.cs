using Streams.V1;

namespace Streams.Client.Consuming;

/// <summary>
/// What a member must do after learning its leases: start reading the shards newly leased, stop
/// the ones no longer leased. A shard leased again at another epoch counts as both: the lease
/// moved away and back in between, so the group's checkpoint (and where to start) may have moved.
/// Pure.
/// </summary>
/// <param name="Acquired">Leases to start readers for, in the server's order.</param>
/// <param name="Lost">Shards whose readers must stop (without checkpointing).</param>
internal sealed record LeaseChanges(IReadOnlyList<ShardLease> Acquired, IReadOnlyList<string> Lost)
{
    /// <summary>Compares the leases a member holds with the ones the server answered.</summary>
    /// <param name="held">The epoch of each shard the member reads (or finished reading) now.</param>
    /// <param name="leases">The leases from JoinGroup or Heartbeat.</param>
    public static LeaseChanges Between(IReadOnlyDictionary<string, long> held, IEnumerable<ShardLease> leases)
    {
        ArgumentNullException.ThrowIfNull(held);
        ArgumentNullException.ThrowIfNull(leases);
        var acquired = new List<ShardLease>();
        var lost = new List<string>();
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lease in leases)
        {
            if (!answered.Add(lease.ShardId))
            {
                continue;
            }

            if (held.TryGetValue(lease.ShardId, out var epoch))
            {
                if (epoch == lease.Epoch)
                {
                    continue;
                }

                lost.Add(lease.ShardId);
            }

            acquired.Add(lease);
        }

        foreach (var shardId in held.Keys.Order(StringComparer.Ordinal))
        {
            if (!answered.Contains(shardId))
            {
                lost.Add(shardId);
            }
        }

        return new LeaseChanges(acquired, lost);
    }
}
