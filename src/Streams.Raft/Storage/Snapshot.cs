namespace Streams.Raft.Storage;

/// <summary>
/// The state machine's state after applying every entry up to <see cref="SnapshotMetadata.Index"/>,
/// as opaque bytes the state machine produced, with the metadata Raft needs to continue the log
/// after it.
/// </summary>
/// <param name="Metadata">The last entry covered and the membership then.</param>
/// <param name="Data">The state machine's bytes. Not copied: do not mutate them afterwards.</param>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data);
