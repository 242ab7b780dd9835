using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>
/// Sends Raft messages to other nodes. Fire and forget: Raft tolerates lost, duplicated and
/// reordered messages, so a transport may drop what it cannot deliver (unknown or unreachable
/// peer, full queue) rather than block or fail the caller.
/// </summary>
public interface IRaftTransport
{
    /// <summary>
    /// Queues <paramref name="message"/> for node <see cref="Message.To"/>. Never blocks and never
    /// throws for delivery problems; the message may be dropped. The message and its buffers must
    /// not be mutated afterwards.
    /// </summary>
    /// <param name="groupId">The Raft group the message belongs to.</param>
    /// <param name="message">The message; <see cref="Message.From"/> is this node.</param>
    void Send(long groupId, Message message);
}
