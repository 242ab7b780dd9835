namespace Streams.Raft.Storage;

/// <summary>
/// A <see cref="FileRaftLog"/> file is damaged in a way a crash cannot explain (for example a bad
/// record followed by good ones, or a bad snapshot file that was fsynced before it was renamed
/// into place). The log refuses to open rather than lose or invent state.
/// </summary>
public sealed class RaftLogCorruptionException : IOException
{
    /// <summary>Creates the exception for damage in a file at an offset.</summary>
    /// <param name="filePath">The damaged file (or the directory, when a file is missing).</param>
    /// <param name="offset">The byte offset of the damage in the file.</param>
    /// <param name="problem">What is wrong there.</param>
    public RaftLogCorruptionException(string filePath, long offset, string problem)
        : base($"Raft log file {filePath} is damaged at offset {offset}: {problem}.")
    {
        FilePath = filePath;
        Offset = offset;
    }

    /// <summary>Creates the exception.</summary>
    public RaftLogCorruptionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public RaftLogCorruptionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RaftLogCorruptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The damaged file, or null when not known.</summary>
    public string? FilePath { get; }

    /// <summary>The byte offset of the damage in <see cref="FilePath"/>.</summary>
    public long Offset { get; }
}
