namespace Streams.Raft.Runtime;

/// <summary>
/// A leadership transfer did not happen: the target is not a voter, another transfer is running,
/// the target did not catch up in time (the leader abandoned it), or another node won the
/// election.
/// </summary>
public sealed class LeadershipTransferFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LeadershipTransferFailedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public LeadershipTransferFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LeadershipTransferFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
