using System.Collections.Concurrent;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.Storage.Segments.Waiting;

namespace Streams.Server.Controller;

/// <summary>
/// The controller group's state machine: applies controller commands to the cluster metadata and
/// keeps each command's result for the node that proposed it. Other threads read
/// <see cref="Current"/> (immutable) at any time and wait for changes through <see cref="Applied"/>.
/// </summary>
internal sealed class ControllerStateMachine : IStateMachine
{
    // Results are kept for this many entries: long enough for the proposer's ProposeAsync to
    // return and take its result, short enough to stay small.
    private const long ResultWindow = 4096;

    private readonly ControllerState _state = new();
    private readonly ConcurrentDictionary<long, ApplyResult> _results = new();
    private long _appliedIndex;

    /// <summary>Creates the state machine of an empty controller.</summary>
    public ControllerStateMachine()
    {
        Applied = new WatermarkWaiters(() => Volatile.Read(ref _appliedIndex));
    }

    /// <summary>The metadata as of the last applied entry.</summary>
    public ClusterMetadata Current => _state.Current;

    /// <summary>The last applied index.</summary>
    public long AppliedIndex => Volatile.Read(ref _appliedIndex);

    /// <summary>Waiters for <see cref="AppliedIndex"/>.</summary>
    public WatermarkWaiters Applied { get; }

    /// <summary>The result of the command applied at <paramref name="index"/>, once, for its proposer.</summary>
    public ApplyResult? TakeResult(long index) => _results.TryRemove(index, out var result) ? result : null;

    /// <inheritdoc/>
    public ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
    {
        foreach (var entry in committed)
        {
            if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
            {
                var command = ControllerCommand.Parser.ParseFrom(entry.Data.Span);
                _results[entry.Index] = _state.Apply(command);
                _results.TryRemove(entry.Index - ResultWindow, out _);
            }

            Volatile.Write(ref _appliedIndex, entry.Index);
        }

        Applied.Advance(AppliedIndex);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<ReadOnlyMemory<byte>>(_state.Snapshot());

    /// <inheritdoc/>
    public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _state.Restore(snapshot.Data.Span);
        Volatile.Write(ref _appliedIndex, snapshot.Metadata.Index);
        Applied.Advance(snapshot.Metadata.Index);
        return ValueTask.CompletedTask;
    }
}
