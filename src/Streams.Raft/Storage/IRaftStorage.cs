namespace Streams.Raft.Storage;

/// <summary>
/// A node's durable Raft state with its write side, as a runtime uses it: it persists each Ready
/// through <see cref="SaveAsync"/> and compacts the log behind the state machine's snapshots
/// through <see cref="CompactAsync"/>. One caller at a time; the core reads between writes.
/// </summary>
public interface IRaftStorage : IRaftLogStorage
{
    /// <summary>
    /// Persists a Ready's state, durably once the task completes: first <paramref name="snapshot"/>
    /// (a snapshot received from the leader: the whole log is replaced by it), then
    /// <paramref name="entries"/> (the first replaces any held entry at its index and all after
    /// it), then <paramref name="hardState"/>.
    /// </summary>
    /// <param name="hardState">The new hard state, or null when it did not change.</param>
    /// <param name="entries">Consecutive entries, possibly none.</param>
    /// <param name="snapshot">A snapshot to install, or null.</param>
    /// <param name="cancellationToken">Cancels the wait, not necessarily the write.</param>
    ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps <paramref name="snapshot"/>, taken by the local state machine at an applied index,
    /// as the latest snapshot and drops the entries it covers. Entries after it stay. A snapshot
    /// not newer than the held one is ignored.
    /// </summary>
    /// <param name="snapshot">A snapshot whose index is in [FirstIndex, LastIndex] and applied.</param>
    /// <param name="cancellationToken">Cancels the wait, not necessarily the write.</param>
    ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken);
}
