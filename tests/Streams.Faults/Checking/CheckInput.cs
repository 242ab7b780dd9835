namespace Streams.Faults.Checking;

/// <summary>Everything the checker judges: the clients' history, every node's full read of every shard, the final checkpoints.</summary>
internal sealed record CheckInput
{
    public required IReadOnlyCollection<SentRecord> Sent { get; init; }

    public required IReadOnlyCollection<AckedRecord> Acked { get; init; }

    public IReadOnlyCollection<FailedRecord> Failed { get; init; } = [];

    public IReadOnlyCollection<DeliveredRecord> Delivered { get; init; } = [];

    public IReadOnlyCollection<CommittedCheckpoint> Checkpoints { get; init; } = [];

    public IReadOnlyCollection<FaultWindow> Faults { get; init; } = [];

    /// <summary>Valid requests the cluster refused as invalid (which a client does not retry).</summary>
    public IReadOnlyCollection<string> Refusals { get; init; } = [];

    /// <summary>The stream's shards.</summary>
    public required IReadOnlyList<string> ShardIds { get; init; }

    /// <summary>Every node's read of every shard (at least one per shard).</summary>
    public required IReadOnlyList<ShardReplicaRead> Reads { get; init; }

    /// <summary>The group's checkpoint per shard once the run was over (a missing shard: none); null when they could not be read.</summary>
    public IReadOnlyDictionary<string, string>? FinalCheckpoints { get; init; }

    /// <summary>How soon after a heal every shard must acknowledge a write again.</summary>
    public TimeSpan RecoveryBound { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When the run stopped sending (seconds); a heal not followed by writes before then is judged only if the bound was up by then.</summary>
    public double SendingStoppedAt { get; init; } = double.MaxValue;

    /// <summary>Whether every stored record must have reached a consumer (false when the run had none).</summary>
    public bool ExpectDeliveries { get; init; } = true;
}
