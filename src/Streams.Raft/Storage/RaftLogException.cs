namespace Streams.Raft.Storage;

/// <summary>A log storage read asked for an index the storage does not hold.</summary>
public sealed class RaftLogException : Exception
{
    /// <summary>Creates the exception with a named failure.</summary>
    /// <param name="error">Why the read failed.</param>
    /// <param name="message">A description naming the index and the range held.</param>
    public RaftLogException(RaftLogError error, string message)
        : base(message)
    {
        Error = error;
    }

    /// <summary>Creates the exception.</summary>
    public RaftLogException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public RaftLogException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RaftLogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The named failure.</summary>
    public RaftLogError Error { get; }
}
