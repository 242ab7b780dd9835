namespace Streams.Storage.Segments;

/// <summary>
/// Stored data failed a check (length, CRC-32C, index sequence) where it cannot be a torn write:
/// it is never skipped silently and never handed to a reader.
/// </summary>
public sealed class StorageCorruptionException : IOException
{
    /// <summary>Creates the exception for damage in <paramref name="filePath"/> at byte <paramref name="position"/>.</summary>
    public StorageCorruptionException(string filePath, long position, string reason)
        : base($"Corrupt data in {filePath} at position {position}: {reason}.")
    {
        FilePath = filePath;
        Position = position;
        Reason = reason;
    }

    /// <summary>Creates the exception with a message only (no file or position known).</summary>
    public StorageCorruptionException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates the exception with a message and a cause (no file or position known).</summary>
    public StorageCorruptionException(string message, Exception? innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
        Position = -1;
        Reason = message;
    }

    /// <summary>Creates the exception with no detail.</summary>
    public StorageCorruptionException()
        : this("Corrupt stored data.")
    {
    }

    /// <summary>Full path of the damaged file.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in the file where the damage starts (-1 when unknown).</summary>
    public long Position { get; }

    /// <summary>What check failed.</summary>
    public string Reason { get; }
}
