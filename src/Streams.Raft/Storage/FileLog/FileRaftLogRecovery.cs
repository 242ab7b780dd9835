namespace Streams.Raft.Storage;

/// <summary>What <see cref="FileRaftLog.OpenAsync"/> found and repaired on disk.</summary>
/// <param name="Segments">The segment files kept.</param>
/// <param name="TruncatedFile">The segment whose torn tail was cut off, or null when none was.</param>
/// <param name="TruncatedBytes">How many bytes were cut off <paramref name="TruncatedFile"/>.</param>
/// <param name="DeletedFiles">
/// The files deleted: a temporary snapshot, segments left behind by an interrupted snapshot
/// installation, a new segment whose first write was torn.
/// </param>
public sealed record FileRaftLogRecovery(int Segments, string? TruncatedFile, long TruncatedBytes, IReadOnlyList<string> DeletedFiles);
