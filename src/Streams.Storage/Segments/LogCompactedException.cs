namespace Streams.Storage.Segments;

/// <summary>
/// A read asked for an index below <see cref="SegmentLog.FirstIndex"/>: those batches were deleted
/// (retention, snapshot). Raft answers with a snapshot; a consumer restarts at the first index.
/// </summary>
public sealed class LogCompactedException : InvalidOperationException
{
    /// <summary>Creates the exception for a read of <paramref name="requestedIndex"/> when the log starts at <paramref name="firstIndex"/>.</summary>
    public LogCompactedException(long requestedIndex, long firstIndex)
        : base($"Index {requestedIndex} is no longer in the log: it starts at index {firstIndex}; read from {firstIndex} or later.")
    {
        RequestedIndex = requestedIndex;
        FirstIndex = firstIndex;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public LogCompactedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public LogCompactedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public LogCompactedException()
        : this("The requested index is no longer in the log.")
    {
    }

    /// <summary>The index that was asked for.</summary>
    public long RequestedIndex { get; }

    /// <summary>The log's first index when the read was refused.</summary>
    public long FirstIndex { get; }
}
