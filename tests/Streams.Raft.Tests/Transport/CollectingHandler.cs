using System.Collections.Concurrent;
using Streams.Raft.Messages;
using Streams.Raft.Transport;

namespace Streams.Raft.Tests.Transport;

/// <summary>Keeps every delivered message, in order.</summary>
internal sealed class CollectingHandler : IRaftMessageHandler
{
    public ConcurrentQueue<AddressedMessage> Messages { get; } = new();

    public void Deliver(long groupId, Message message) => Messages.Enqueue(new AddressedMessage(groupId, message));
}
