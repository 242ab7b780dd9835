using Streams.Raft.Storage;

namespace Streams.Server.Shards.Log;

/// <summary>The snapshot file's content.</summary>
/// <param name="Snapshot">The latest snapshot.</param>
/// <param name="RestartsLog">
/// It was installed from the leader and replaces the whole log: the segment log must start at
/// its index + 1. Opening finishes an installation a crash interrupted by this mark.
/// </param>
internal readonly record struct StoredSnapshot(Snapshot Snapshot, bool RestartsLog);
