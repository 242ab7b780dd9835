namespace Streams.Faults.Checking;

/// <summary>One thing the checker found wrong: which property (<paramref name="Property"/>) and the evidence.</summary>
internal sealed record Finding(string Property, string Message)
{
    public const string Lost = "no acknowledged record lost";
    public const string Duplicated = "no record stored twice";
    public const string Unknown = "nothing stored that was not sent";
    public const string Order = "order within each shard kept";
    public const string SequenceReused = "sequence numbers never reused";
    public const string ReplicasAgree = "replicas hold the same records";
    public const string Delivered = "every stored record delivered to the group";
    public const string DeliveryOrder = "no record skipped within a lease";
    public const string CheckpointBackwards = "checkpoints never moved backwards";
    public const string Refused = "valid requests never refused as invalid";
    public const string Recovery = "writes served again within the bound after healing";

    public override string ToString() => $"[{Property}] {Message}";
}
