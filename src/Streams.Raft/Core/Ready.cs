using Streams.Raft.Messages;
using Streams.Raft.Storage;

namespace Streams.Raft.Core;

/// <summary>
/// A batch of work the host must do for a node, in this order:
/// <list type="number">
/// <item>persist <see cref="Snapshot"/> (when not null: it replaces the whole log), then
/// <see cref="Entries"/> (the first replaces any held entry at its index and everything after
/// it), then <see cref="HardState"/> (when not null), durably (<see cref="IRaftStorage.SaveAsync"/>);</item>
/// <item>only then send <see cref="Messages"/>: PERSIST BEFORE SEND. A vote or an acknowledgement
/// sent before the state it promises is on disk can be forgotten by a crash and break safety;</item>
/// <item>restore the state machine from <see cref="Snapshot"/> when not null, then apply
/// <see cref="CommittedEntries"/> in order (they may include entries of this same Ready, which is
/// why they come after persisting);</item>
/// <item>call <see cref="RaftNode.Advance"/> with this Ready before asking for the next one.</item>
/// </list>
/// </summary>
public sealed class Ready
{
    internal Ready(HardState? hardState, IReadOnlyList<Entry> entries, IReadOnlyList<Message> messages, IReadOnlyList<Entry> committedEntries, IReadOnlyList<ReadState> readStates, Snapshot? snapshot = null)
    {
        Snapshot = snapshot;
        ReadStates = readStates;
        HardState = hardState;
        Entries = entries;
        Messages = messages;
        CommittedEntries = committedEntries;
    }

    /// <summary>The hard state to persist, or null when it did not change.</summary>
    public HardState? HardState { get; }

    /// <summary>
    /// A snapshot received from the leader, or null: persist it (it replaces the log) and restore
    /// the state machine from it before applying <see cref="CommittedEntries"/>.
    /// </summary>
    public Snapshot? Snapshot { get; }

    /// <summary>Entries to persist, consecutive; the first replaces the held entry at its index and all after it.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Messages to send once <see cref="HardState"/> and <see cref="Entries"/> are durable.</summary>
    public IReadOnlyList<Message> Messages { get; }

    /// <summary>Committed entries to apply, in index order.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; }

    /// <summary>
    /// Linearizable reads made ready (thesis §6.4): serve each once the state machine has applied
    /// up to its <see cref="ReadState.Index"/>. They need nothing persisted.
    /// </summary>
    public IReadOnlyList<ReadState> ReadStates { get; }
}
