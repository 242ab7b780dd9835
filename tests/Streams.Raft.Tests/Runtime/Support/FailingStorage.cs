using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Runtime.Support;

/// <summary>A <see cref="MemoryRaftLog"/> whose writes fail on demand (a failed fsync).</summary>
internal sealed class FailingStorage : IRaftStorage
{
    private readonly MemoryRaftLog _log = new();

    public bool FailWrites { get; set; }

    public Snapshot? Snapshot => _log.Snapshot;

    public long FirstIndex => _log.FirstIndex;

    public long LastIndex => _log.LastIndex;

    public HardState InitialState() => _log.InitialState();

    public long Term(long index) => _log.Term(index);

    public IReadOnlyList<Entry> Entries(long lo, long hi, long maxBytes) => _log.Entries(lo, hi, maxBytes);

    public ValueTask SaveAsync(HardState? hardState, IReadOnlyList<Entry> entries, Snapshot? snapshot, CancellationToken cancellationToken) =>
        FailWrites ? ValueTask.FromException(new IOException("fsync failed")) : _log.SaveAsync(hardState, entries, snapshot, cancellationToken);

    public ValueTask CompactAsync(Snapshot snapshot, CancellationToken cancellationToken) => _log.CompactAsync(snapshot, cancellationToken);
}
