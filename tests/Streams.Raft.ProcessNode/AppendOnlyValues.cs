using System.Text;
using System.Text.Json;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;

namespace Streams.Raft.ProcessNode;

/// <summary>One applied value and the log index it was applied from.</summary>
internal sealed record AppliedValue(long Index, string Value);

/// <summary>What <c>GET /values</c> returns, and also the snapshot format.</summary>
internal sealed record AppliedValues(long Applied, IReadOnlyList<AppliedValue> Values);

/// <summary>
/// The replicated state: every non-empty normal entry's payload, as text, in log order.
/// No-ops (empty normal entries) and configuration entries only advance the applied index.
/// Read from request threads while the group's loop applies, hence the lock.
/// </summary>
internal sealed class AppendOnlyValues : IStateMachine
{
    private readonly Lock _lock = new();
    private readonly List<AppliedValue> _values = [];
    private long _applied;

    /// <summary>Set once the group runs: a restore from then on is a snapshot the leader sent.</summary>
    public bool Started { get; set; }

    public AppliedValues Read()
    {
        lock (_lock)
        {
            return new AppliedValues(_applied, [.. _values]);
        }
    }

    public ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var entry in committed)
            {
                // A gap or a repeat would mean the runtime broke its contract; throwing stops
                // the group, which the test then sees as a node that never catches up.
                if (entry.Index != _applied + 1)
                {
                    throw new InvalidOperationException($"Entry {entry.Index} was applied after entry {_applied}: not contiguous.");
                }

                if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
                {
                    _values.Add(new AppliedValue(entry.Index, Encoding.UTF8.GetString(entry.Data.Span)));
                }

                _applied = entry.Index;
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<ReadOnlyMemory<byte>>(JsonSerializer.SerializeToUtf8Bytes(new AppliedValues(_applied, _values)));
        }
    }

    public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var state = JsonSerializer.Deserialize<AppliedValues>(snapshot.Data.Span)
            ?? throw new InvalidOperationException($"The snapshot at {snapshot.Metadata.Index} holds no state.");
        if (state.Applied != snapshot.Metadata.Index)
        {
            throw new InvalidOperationException($"The snapshot's state was taken at {state.Applied} but its metadata says {snapshot.Metadata.Index}.");
        }

        lock (_lock)
        {
            _values.Clear();
            _values.AddRange(state.Values);
            _applied = state.Applied;
        }

        // Synchronous, unlike the logger, so the test can count where snapshots came from.
        Console.Out.WriteLine($"restored snapshot at {state.Applied} with {state.Values.Count} values, {(Started ? "sent by the leader" : "at start")}");
        return ValueTask.CompletedTask;
    }
}
