using Streams.Raft.Storage;

namespace Streams.Raft.Runtime;

/// <summary>
/// The application state a Raft group replicates. Its group calls it from one loop, one call at a
/// time, never concurrently. A call that throws stops the group: the state machine and the log
/// may disagree from then on, so nothing further is applied.
/// </summary>
public interface IStateMachine
{
    /// <summary>
    /// Applies committed entries, in index order, contiguous with what was applied before. Every
    /// committed entry comes here: <see cref="EntryType.Normal"/> ones (an empty one is a new
    /// leader's no-op) and <see cref="EntryType.Config"/> ones (membership changes, already in
    /// force in the Raft core). The list and its entries belong to Raft: read them, do not keep the
    /// list.
    /// </summary>
    /// <param name="committed">The entries.</param>
    /// <param name="cancellationToken">Cancelled when the group stops.</param>
    ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken);

    /// <summary>The state as of the last applied entry, as bytes <see cref="RestoreAsync"/> reads back.</summary>
    /// <param name="cancellationToken">Cancelled when the group stops.</param>
    ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the whole state with <paramref name="snapshot"/> (received from the leader, or found
    /// in storage at start): afterwards the last applied entry is <c>snapshot.Metadata.Index</c>.
    /// </summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="cancellationToken">Cancelled when the group stops.</param>
    ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken);
}
