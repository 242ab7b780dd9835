namespace Streams.Raft.Runtime;

/// <summary>One item of a group's inbox: a struct, so queueing a received message allocates nothing more.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Payload">The message or the waiter, by kind; null for a tick.</param>
internal readonly record struct GroupCommand(GroupCommandKind Kind, object? Payload);
