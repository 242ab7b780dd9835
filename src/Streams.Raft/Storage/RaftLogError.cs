namespace Streams.Raft.Storage;

/// <summary>Why a log storage read failed.</summary>
public enum RaftLogError
{
    /// <summary>The index lies before the first index still held (compacted away).</summary>
    Compacted = 1,

    /// <summary>The index lies beyond the last index held.</summary>
    Unavailable = 2,
}
