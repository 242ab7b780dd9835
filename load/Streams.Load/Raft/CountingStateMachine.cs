using System.Buffers.Binary;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;

namespace Streams.Load.Raft;

/// <summary>
/// The cheapest state machine that still does what one must: it counts the entries applied, and
/// its snapshot is that count. The benchmark measures Raft, not an application.
/// </summary>
internal sealed class CountingStateMachine : IStateMachine
{
    private long _applied;

    /// <summary>Entries applied so far (no-ops and configuration entries included).</summary>
    public long Applied => Volatile.Read(ref _applied);

    public ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _applied, _applied + committed.Count);
        return ValueTask.CompletedTask;
    }

    public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken)
    {
        var data = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(data, Applied);
        return ValueTask.FromResult<ReadOnlyMemory<byte>>(data);
    }

    public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _applied, BinaryPrimitives.ReadInt64LittleEndian(snapshot.Data.Span));
        return ValueTask.CompletedTask;
    }
}
