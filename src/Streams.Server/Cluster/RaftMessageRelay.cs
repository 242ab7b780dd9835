using Streams.Raft.Messages;
using Streams.Raft.Transport;

namespace Streams.Server.Cluster;

/// <summary>
/// The Raft transport's handler, registered with the gRPC services before the node's Raft host
/// exists: it hands messages to the host once it runs and drops them before (Raft tolerates lost
/// messages; the sender retries).
/// </summary>
internal sealed class RaftMessageRelay : IRaftMessageHandler
{
    private IRaftMessageHandler? _target;

    /// <summary>Starts (or, with null, stops) delivering to <paramref name="target"/>.</summary>
    public void Attach(IRaftMessageHandler? target) => Volatile.Write(ref _target, target);

    /// <inheritdoc/>
    public void Deliver(long groupId, Message message) => Volatile.Read(ref _target)?.Deliver(groupId, message);
}
