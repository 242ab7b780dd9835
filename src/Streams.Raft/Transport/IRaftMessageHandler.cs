using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>Where a transport hands the messages it receives (a <c>RaftHost</c>, routing them to its groups).</summary>
public interface IRaftMessageHandler
{
    /// <summary>
    /// Takes one received message. Must not block: called on the transport's receiving path.
    /// Messages that cannot be routed are dropped.
    /// </summary>
    /// <param name="groupId">The Raft group the message belongs to.</param>
    /// <param name="message">The message; <see cref="Message.To"/> is this node.</param>
    void Deliver(long groupId, Message message);
}
