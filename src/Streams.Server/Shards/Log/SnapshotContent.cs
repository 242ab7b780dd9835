using Streams.Raft.Membership;

namespace Streams.Server.Shards.Log;

/// <summary>
/// What the state machine gives for a snapshot the log takes itself (before retention deletes
/// entries the held snapshot does not cover); the log knows the index and its term.
/// </summary>
/// <param name="ConfState">The membership as of the snapshot's index.</param>
/// <param name="Data">The state machine's bytes as of that index. Not copied: do not mutate them afterwards.</param>
public sealed record SnapshotContent(ConfState ConfState, ReadOnlyMemory<byte> Data);
