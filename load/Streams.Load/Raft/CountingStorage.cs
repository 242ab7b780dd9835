using System.Diagnostics;
using Streams.Raft.Storage;

namespace Streams.Load.Raft;

/// <summary>What one node's storage did over some span of time (a difference of two <see cref="CountingStorage.Counts"/>).</summary>
/// <param name="Saves">SaveAsync calls that wrote something: one write and, with fsync on, one fsync each.</param>
/// <param name="EntrySaves">Saves that carried entries.</param>
/// <param name="Entries">Entries saved.</param>
/// <param name="HardStateOnlySaves">Saves of a hard state alone (on a leader, almost always a new commit index).</param>
/// <param name="SaveTicks">Stopwatch ticks spent inside SaveAsync, the group's loop waiting on the disk.</param>
/// <param name="Compactions">Snapshots kept and log compacted behind them.</param>
internal readonly record struct StorageCounts(long Saves, long EntrySaves, long Entries, long HardStateOnlySaves, long SaveTicks, long Compactions)
{
    public static StorageCounts operator -(StorageCounts after, StorageCounts before) => new(
        after.Saves - before.Saves,
        after.EntrySaves - before.EntrySaves,
        after.Entries - before.Entries,
        after.HardStateOnlySaves - before.HardStateOnlySaves,
        after.SaveTicks - before.SaveTicks,
        after.Compactions - before.Compactions);
}

/// <summary>
/// A node's <see cref="FileRaftLog"/> with counters around its writes, so the benchmark can tell
/// how many fsyncs a commit cost and how long the group's loop waited on them.
/// </summary>
internal sealed class CountingStorage(FileRaftLog log) : IRaftStorage, IDisposable
{
    private long _saves;
    private long _entrySaves;
    private long _entries;
    private long _hardStateOnlySaves;
    private long _saveTicks;
    private long _compactions;

    public Snapshot? Snapshot => log.Snapshot;

    public long FirstIndex => log.FirstIndex;

    public long LastIndex => log.LastIndex;

    /// <summary>The counters now; read from any thread.</summary>
    public StorageCounts Counts => new(
        Interlocked.Read(ref _saves),
        Interlocked.Read(ref _entrySaves),
        Interlocked.Read(ref _entries),
        Interlocked.Read(ref _hardStateOnlySaves),
        Interlocked.Read(ref _saveTicks),
        Interlocked.Read(ref _compactions));

    public HardState InitialState() => log.InitialState();

    public long Term(long index) => log.Term(index);

    public IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes) => log.Entries(lo, hi, maxBytes);

    public async ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await log.SaveAsync(hardState, entries, snapshot, cancellationToken).ConfigureAwait(false);
        if (hardState is null && entries.Count == 0 && snapshot is null)
        {
            // FileRaftLog writes nothing for an empty save.
            return;
        }

        Interlocked.Add(ref _saveTicks, Stopwatch.GetTimestamp() - started);
        Interlocked.Increment(ref _saves);
        if (entries.Count > 0)
        {
            Interlocked.Increment(ref _entrySaves);
            Interlocked.Add(ref _entries, entries.Count);
        }
        else if (snapshot is null)
        {
            Interlocked.Increment(ref _hardStateOnlySaves);
        }
    }

    public async ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        await log.CompactAsync(snapshot, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _compactions);
    }

    public void Dispose() => log.Dispose();
}
