namespace Streams.Raft.Core;

/// <summary>
/// A linearizable read made ready (thesis §6.4): once the host's state machine has applied up to
/// <see cref="Index"/>, the read identified by <see cref="RequestContext"/> may be served from it.
/// </summary>
/// <param name="Index">The read index: the leader's commit index when the read was accepted.</param>
/// <param name="RequestContext">The context passed to <see cref="RaftNode.ReadIndex"/>.</param>
public readonly record struct ReadState(long Index, ReadOnlyMemory<byte> RequestContext);
