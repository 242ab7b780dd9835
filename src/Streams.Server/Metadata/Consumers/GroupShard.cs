using Streams.Server.Routing;

namespace Streams.Server.Metadata.Consumers;

/// <summary>
/// What a consumer group knows of one shard: its checkpoint, whether it was read to its end, and
/// its lease. The epoch only grows, even while the shard is not leased, so a lease granted again is
/// never confused with an earlier one.
/// </summary>
public sealed record GroupShard
{
    /// <summary>A shard the group never leased, checkpointed or ended.</summary>
    public static GroupShard None { get; } = new();

    /// <summary>The last sequence number the group processed, or null.</summary>
    public SequenceNumber? Checkpoint { get; init; }

    /// <summary>True once the group read the (closed) shard to its end; it is never leased again.</summary>
    public bool ShardEnd { get; init; }

    /// <summary>The member holding the lease, or null.</summary>
    public string? Owner { get; init; }

    /// <summary>The epoch of the shard's latest lease: 0 before the first, one more for each grant.</summary>
    public long Epoch { get; init; }

    /// <summary>
    /// A checkpoint a holder prepared and has not made yet, or null: it stays across lease changes,
    /// so the next holder repeats exactly the work up to it (two-phase checkpoints).
    /// </summary>
    public SequenceNumber? Pending { get; init; }
}
