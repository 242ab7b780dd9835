using Streams.Raft.Membership;

namespace Streams.Raft.Runtime;

/// <summary>A proposal (an entry or a membership change) waiting to be applied; completes with its index.</summary>
internal sealed class ProposalWaiter(ReadOnlyMemory<byte> data, ConfChange? change) : RaftWaiter<long>
{
    /// <summary>The payload, until proposed (then released).</summary>
    public ReadOnlyMemory<byte> Data { get; set; } = data;

    /// <summary>The membership change, or null for a normal entry.</summary>
    public ConfChange? Change { get; } = change;

    /// <summary>The index the leader gave the entry.</summary>
    public long Index { get; set; }

    /// <summary>The term the leader gave the entry: with the index, it identifies it.</summary>
    public long Term { get; set; }
}
