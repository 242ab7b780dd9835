using System.Collections.Concurrent;
using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>
/// An in-process network for tests and benchmarks without sockets: each node attaches its
/// message handler and gets an <see cref="InMemoryRaftTransport"/>. Delivery is immediate (the
/// handler only queues); a node can be cut off and reconnected. Thread-safe.
/// </summary>
public sealed class InMemoryRaftNetwork
{
    private readonly ConcurrentDictionary<long, IRaftMessageHandler> _handlers = new();
    private readonly ConcurrentDictionary<long, bool> _isolated = new();
    private long _dropped;

    /// <summary>Messages dropped because the receiver was detached or either end isolated.</summary>
    public long MessagesDropped => Interlocked.Read(ref _dropped);

    /// <summary>Connects node <paramref name="nodeId"/>: messages to it go to <paramref name="handler"/>.</summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="handler">Its handler (replaces an earlier one: a restarted node).</param>
    /// <returns>The node's transport.</returns>
    public InMemoryRaftTransport Attach(long nodeId, IRaftMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers[nodeId] = handler;
        return new InMemoryRaftTransport(this, nodeId);
    }

    /// <summary>Disconnects node <paramref name="nodeId"/> for good (a stopped node).</summary>
    /// <param name="nodeId">The node.</param>
    public void Detach(long nodeId) => _handlers.TryRemove(nodeId, out _);

    /// <summary>Cuts node <paramref name="nodeId"/> off: its messages in and out are dropped.</summary>
    /// <param name="nodeId">The node.</param>
    public void Isolate(long nodeId) => _isolated[nodeId] = true;

    /// <summary>Reconnects a node cut off by <see cref="Isolate"/>.</summary>
    /// <param name="nodeId">The node.</param>
    public void Heal(long nodeId) => _isolated.TryRemove(nodeId, out _);

    internal void Deliver(long fromNode, long groupId, Message message)
    {
        if (_isolated.ContainsKey(fromNode) || _isolated.ContainsKey(message.To) || !_handlers.TryGetValue(message.To, out var handler))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        handler.Deliver(groupId, message);
    }
}
