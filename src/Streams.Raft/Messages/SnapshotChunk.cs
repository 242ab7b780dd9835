using Streams.Raft.Storage;

namespace Streams.Raft.Messages;

/// <summary>
/// One piece of a snapshot sent by a leader (InstallSnapshot, §7): bytes
/// [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Data"/>.Length) of a snapshot of
/// <see cref="TotalBytes"/> bytes.
/// </summary>
/// <param name="Metadata">The snapshot's index, term and membership.</param>
/// <param name="TotalBytes">The length of the whole snapshot's data.</param>
/// <param name="Offset">Where this piece starts.</param>
/// <param name="Data">The piece.</param>
public sealed record SnapshotChunk(SnapshotMetadata Metadata, long TotalBytes, long Offset, ReadOnlyMemory<byte> Data)
{
    /// <summary>True when this piece ends the snapshot.</summary>
    public bool IsLast => Offset + Data.Length == TotalBytes;
}
