using Streams.Raft.Membership;

namespace Streams.Raft.Storage;

/// <summary>Where a snapshot stands in the log: the last entry it covers and the membership then.</summary>
/// <param name="Index">The index of the last entry the snapshot covers.</param>
/// <param name="Term">That entry's term.</param>
/// <param name="ConfState">The membership as of <paramref name="Index"/>.</param>
public sealed record SnapshotMetadata(long Index, long Term, ConfState ConfState);
