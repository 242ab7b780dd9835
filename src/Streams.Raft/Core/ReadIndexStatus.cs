namespace Streams.Raft.Core;

/// <summary>The outcome of <see cref="RaftNode.ReadIndex"/>.</summary>
public enum ReadIndexStatus
{
    /// <summary>This node is the leader: a <see cref="ReadState"/> follows once a majority confirms its leadership.</summary>
    Pending = 1,

    /// <summary>Forwarded to the known leader: a <see cref="ReadState"/> follows when it answers (or never, if the message is lost).</summary>
    Forwarded = 2,

    /// <summary>No leader is known: the request is dropped; retry later.</summary>
    NoLeader = 3,
}
