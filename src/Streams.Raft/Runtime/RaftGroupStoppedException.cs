namespace Streams.Raft.Runtime;

/// <summary>
/// The group no longer runs on this node: it was removed, its host disposed, or it stopped after
/// a failure of its storage, state machine or a safety check (then <see cref="Exception.InnerException"/>
/// is the cause, and the node must be restarted from what is on disk).
/// </summary>
public sealed class RaftGroupStoppedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RaftGroupStoppedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public RaftGroupStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure that stopped the group.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RaftGroupStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
