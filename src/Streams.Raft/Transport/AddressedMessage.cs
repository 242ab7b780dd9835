using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>A message with the Raft group it belongs to: the unit a transport queues and batches.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Message">The message.</param>
public readonly record struct AddressedMessage(long GroupId, Message Message);
