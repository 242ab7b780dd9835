namespace Streams.Server.Firehose;

/// <summary>A shard delivery's checkpoint was refused: the lease went to another worker, which takes over from the group's checkpoint.</summary>
internal sealed class LeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LeaseLostException()
    {
    }

    /// <summary>Creates the exception with the server's message.</summary>
    /// <param name="message">Why the checkpoint was refused.</param>
    public LeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the server's message and the failure.</summary>
    /// <param name="message">Why the checkpoint was refused.</param>
    /// <param name="innerException">The failure.</param>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
