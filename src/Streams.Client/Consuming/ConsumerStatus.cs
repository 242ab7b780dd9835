namespace Streams.Client.Consuming;

/// <summary>A <see cref="Consumer"/> at one moment: its membership, the shards it reads and its lag.</summary>
/// <param name="MemberId">Its member id.</param>
/// <param name="IsMember">True while it believes itself a live member: joined, and a heartbeat acknowledged recently enough that its session cannot have lapsed.</param>
/// <param name="Generation">The group's generation at its last join or heartbeat (it changes at each rebalance).</param>
/// <param name="Shards">The shards it holds a lease on and reads, in shard id order.</param>
public sealed record ConsumerStatus(string MemberId, bool IsMember, long Generation, IReadOnlyList<ConsumerShardStatus> Shards)
{
    /// <summary>The largest lag over its shards, in milliseconds (0 with none).</summary>
    public long MillisBehindLatest => Shards.Count == 0 ? 0 : Shards.Max(s => s.MillisBehindLatest);
}
