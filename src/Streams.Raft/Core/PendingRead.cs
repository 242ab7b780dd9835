namespace Streams.Raft.Core;

/// <summary>A read the leader holds until a majority confirms its leadership (thesis §6.4).</summary>
/// <param name="Round">The read round its confirming heartbeats carry; rounds only increase.</param>
/// <param name="Index">The read index: the leader's commit index when it accepted the read.</param>
/// <param name="From">The node that asked (the leader itself or a follower that forwarded it).</param>
/// <param name="Context">The request context.</param>
internal sealed record PendingRead(long Round, long Index, long From, ReadOnlyMemory<byte> Context)
{
    /// <summary>The voters that acknowledged a heartbeat sent after this read was accepted (the leader included).</summary>
    public HashSet<long> Acks { get; } = [];
}
