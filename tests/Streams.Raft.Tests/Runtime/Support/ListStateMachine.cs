using System.Text;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Runtime.Support;

/// <summary>
/// An append-only list of the payloads of the non-empty normal entries applied, with the index
/// of each. Thread-safe to read while its group applies. <see cref="BlockApplying"/> holds
/// applying back, to catch requests in flight.
/// </summary>
internal sealed class ListStateMachine : IStateMachine
{
    private readonly Lock _lock = new();
    private readonly List<(long Index, string Text)> _items = [];
    private TaskCompletionSource? _gate;
    private long _appliedIndex;
    private int _restores;

    public long AppliedIndex
    {
        get
        {
            lock (_lock)
            {
                return _appliedIndex;
            }
        }
    }

    /// <summary>How many times the state was replaced by a snapshot.</summary>
    public int Restores => Volatile.Read(ref _restores);

    /// <summary>Throw from the next apply (a failing state machine).</summary>
    public Exception? FailNextApply { get; set; }

    public IReadOnlyList<string> Texts
    {
        get
        {
            lock (_lock)
            {
                return [.. _items.Select(i => i.Text)];
            }
        }
    }

    /// <summary>Applying waits until the returned gate is opened.</summary>
    public TaskCompletionSource BlockApplying()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _gate, gate);
        return gate;
    }

    public async ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _gate) is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
            Volatile.Write(ref _gate, null);
        }

        if (FailNextApply is { } failure)
        {
            throw failure;
        }

        lock (_lock)
        {
            foreach (var entry in committed)
            {
                if (entry.Index != _appliedIndex + 1)
                {
                    throw new InvalidOperationException($"Entry {entry.Index} applied after {_appliedIndex}: not contiguous.");
                }

                if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
                {
                    _items.Add((entry.Index, Encoding.UTF8.GetString(entry.Data.Span)));
                }

                _appliedIndex = entry.Index;
            }
        }
    }

    public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            using var stream = new MemoryStream();
            using var writer = new BinaryWriter(stream);
            writer.Write(_appliedIndex);
            writer.Write(_items.Count);
            foreach (var (index, text) in _items)
            {
                writer.Write(index);
                writer.Write(text);
            }

            writer.Flush();
            return ValueTask.FromResult<ReadOnlyMemory<byte>>(stream.ToArray());
        }
    }

    public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        var data = snapshot.Data.ToArray();
        using var reader = new BinaryReader(new MemoryStream(data));
        var applied = reader.ReadInt64();
        if (applied != snapshot.Metadata.Index)
        {
            throw new InvalidOperationException($"Snapshot data taken at {applied} but its metadata says {snapshot.Metadata.Index}.");
        }

        var count = reader.ReadInt32();
        var items = new List<(long, string)>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add((reader.ReadInt64(), reader.ReadString()));
        }

        lock (_lock)
        {
            _items.Clear();
            _items.AddRange(items);
            _appliedIndex = applied;
        }

        Interlocked.Increment(ref _restores);
        return ValueTask.CompletedTask;
    }
}
