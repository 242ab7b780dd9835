namespace Streams.Raft.Core;

/// <summary>
/// A safety invariant was about to be broken (term decreasing, commit regressing or running past
/// the log, a committed entry overwritten). The node must stop: continuing would risk a wrong
/// answer. Never caught inside the core.
/// </summary>
public sealed class RaftInvariantException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RaftInvariantException()
    {
    }

    /// <summary>Creates the exception naming the broken invariant.</summary>
    /// <param name="message">What was about to go wrong.</param>
    public RaftInvariantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What was about to go wrong.</param>
    /// <param name="innerException">The cause.</param>
    public RaftInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
