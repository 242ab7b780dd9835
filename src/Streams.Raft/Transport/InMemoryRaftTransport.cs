using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>One node's end of an <see cref="InMemoryRaftNetwork"/>.</summary>
public sealed class InMemoryRaftTransport : IRaftTransport
{
    private readonly InMemoryRaftNetwork _network;

    internal InMemoryRaftTransport(InMemoryRaftNetwork network, long nodeId)
    {
        _network = network;
        NodeId = nodeId;
    }

    /// <summary>The node this end belongs to.</summary>
    public long NodeId { get; }

    /// <inheritdoc/>
    public void Send(long groupId, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _network.Deliver(NodeId, groupId, message);
    }
}
