namespace Streams.Raft.Runtime;

/// <summary>A leadership transfer waiting to see its target lead.</summary>
internal sealed class TransferWaiter(long target) : RaftWaiter<bool>
{
    /// <summary>The node leadership goes to.</summary>
    public long Target { get; } = target;

    /// <summary>The term this node led when the transfer started.</summary>
    public long Term { get; set; }

    /// <summary>The tick at which the transfer is given up.</summary>
    public long DeadlineTick { get; set; }
}
