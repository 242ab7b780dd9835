using Streams.Raft.Log;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>
/// One node of a Raft group as a deterministic state machine (etcd/raft style). It does no I/O,
/// reads no clock, starts no thread and draws randomness only from the injected
/// <see cref="IRandomSource"/>. Inputs: <see cref="Tick"/>, <see cref="Step"/>,
/// <see cref="Propose"/>, <see cref="ProposeConfChange"/>, <see cref="TransferLeadership"/> and
/// <see cref="ReadIndex"/>. Output: a <see cref="Ready"/> (<see cref="HasReady"/>,
/// <see cref="GetReady"/>, <see cref="Advance"/>). Not thread-safe: one caller at a time.
/// </summary>
/// <remarks>
/// Safety invariants are checked always, and a violation throws
/// <see cref="RaftInvariantException"/>: the term never decreases, the commit index never
/// regresses and never passes the last index, committed entries are never overwritten. A node
/// that threw must be discarded and restarted from its persisted state.
/// </remarks>
public sealed partial class RaftNode
{
    /// <summary>The id meaning "no node".</summary>
    public const long None = 0;

    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly Dictionary<long, Progress> _progress = [];
    private readonly Dictionary<long, bool> _votes = [];
    private readonly List<Message> _messages = [];
    private readonly List<ReadState> _readStates = [];
    private HardState _persistedHardState;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private bool _readyOutstanding;

    /// <summary>Creates a node from its configuration and its persisted state.</summary>
    /// <param name="config">The configuration; validated here.</param>
    /// <param name="storage">The persisted hard state and log.</param>
    public RaftNode(RaftConfig config, IRaftLogStorage storage)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(storage);
        config.Validate();
        _config = config;
        var hardState = storage.InitialState();
        _log = new RaftLog(storage, hardState.Commit, config.AppliedIndex, new ConfState(config.Voters));
        _persistedHardState = hardState;
        Term = hardState.Term;
        Vote = hardState.Vote;
        BecomeFollower(Term, None);
    }

    /// <summary>This node's id.</summary>
    public long Id => _config.Id;

    /// <summary>The current term.</summary>
    public long Term { get; private set; }

    /// <summary>The node voted for in <see cref="Term"/>, or <see cref="None"/>.</summary>
    public long Vote { get; private set; }

    /// <summary>The leader this node knows of in <see cref="Term"/>, or <see cref="None"/>.</summary>
    public long Leader { get; private set; }

    /// <summary>The current role.</summary>
    public RaftRole Role { get; private set; }

    /// <summary>The highest index known committed.</summary>
    public long CommitIndex => _log.Committed;

    /// <summary>The index of the last entry (persisted or not).</summary>
    public long LastIndex => _log.LastIndex;

    /// <summary>The term of the last entry.</summary>
    public long LastTerm => _log.LastTerm;

    /// <summary>The highest index handed out for applying and acknowledged by <see cref="Advance"/>.</summary>
    public long AppliedIndex => _log.Applied;

    internal RaftLog Log => _log;

    internal int RandomizedElectionTimeout => _randomizedElectionTimeout;

    private bool IsVoter => _log.ConfState.IsVoter(Id);

    private int Quorum => _log.ConfState.Quorum;

    /// <summary>The leader's view of a follower, or null when this node is not the leader.</summary>
    /// <param name="id">The follower's id.</param>
    internal Progress? ProgressOf(long id) =>
        Role == RaftRole.Leader && _progress.TryGetValue(id, out var progress) ? progress : null;

    /// <summary>
    /// Advances logical time by one tick: followers and candidates count towards an election,
    /// leaders towards a heartbeat and a check-quorum round.
    /// </summary>
    public void Tick()
    {
        _ticks++;
        if (Role == RaftRole.Leader)
        {
            TickLeader();
        }
        else
        {
            TickElection();
        }

        StepDownIfRemoved();
    }

    /// <summary>
    /// Proposes a new entry. Only the leader accepts; the payload is copied. Acceptance means the
    /// entry is in the leader's log, not that it will commit.
    /// </summary>
    /// <param name="data">The payload.</param>
    public ProposeResult Propose(ReadOnlyMemory<byte> data)
    {
        if (Role != RaftRole.Leader)
        {
            return ProposeResult.NotLeader(Leader);
        }

        if (_leadTransferee != None)
        {
            // Thesis §3.10: the leader stops accepting requests while it transfers leadership, so
            // the target's log can catch up with a log that no longer grows.
            return ProposeResult.TransferInProgress(Id);
        }

        var entry = new Entry(Term, _log.LastIndex + 1, data.ToArray());
        AppendEntries([entry]);
        BroadcastAppend();
        StepDownIfRemoved();
        return ProposeResult.Accepted(entry.Index, entry.Term);
    }

    /// <summary>True when there is something to persist, send or apply (false while a Ready is outstanding).</summary>
    public bool HasReady =>
        !_readyOutstanding
        && (CurrentHardState() != _persistedHardState
            || _log.Unstable.Count > 0
            || _messages.Count > 0
            || _readStates.Count > 0
            || _log.PendingSnapshot is not null
            || _log.HasNextCommitted);

    /// <summary>
    /// Takes the pending work. The host must handle it as <see cref="Ready"/> describes
    /// (persist, then send, then apply) and call <see cref="Advance"/> before the next call.
    /// </summary>
    public Ready GetReady()
    {
        if (_readyOutstanding)
        {
            throw new InvalidOperationException("The previous Ready has not been advanced.");
        }

        var hardState = CurrentHardState();
        if (hardState.Term < _persistedHardState.Term)
        {
            throw new RaftInvariantException($"Term would decrease from {_persistedHardState.Term} to {hardState.Term}.");
        }

        if (hardState.Commit < _persistedHardState.Commit)
        {
            throw new RaftInvariantException($"Commit would regress from {_persistedHardState.Commit} to {hardState.Commit}.");
        }

        var ready = new Ready(
            hardState != _persistedHardState ? hardState : null,
            [.. _log.Unstable],
            [.. _messages],
            _log.NextCommitted(),
            [.. _readStates],
            _log.PendingSnapshot);
        _messages.Clear();
        _readStates.Clear();
        _readyOutstanding = true;
        return ready;
    }

    /// <summary>
    /// Tells the node that <paramref name="ready"/> was handled: its state and entries are
    /// durable, its messages sent and its committed entries applied.
    /// </summary>
    /// <param name="ready">The Ready returned by the last <see cref="GetReady"/>.</param>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!_readyOutstanding)
        {
            throw new InvalidOperationException("No Ready is outstanding.");
        }

        _readyOutstanding = false;
        if (ready.HardState is { } hardState)
        {
            _persistedHardState = hardState;
        }

        if (ready.Snapshot is { } snapshot)
        {
            _log.StableSnapshotTo(snapshot.Metadata.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            _log.StableTo(last.Index, last.Term);
        }

        // A snapshot restored since this Ready was taken has already moved the applied index past
        // its committed entries.
        if (ready.CommittedEntries.Count > 0 && ready.CommittedEntries[^1].Index > _log.Applied)
        {
            _log.AppliedTo(ready.CommittedEntries[^1].Index);
        }
    }

    private HardState CurrentHardState() => new(Term, Vote, _log.Committed);

    private void SetTerm(long term)
    {
        if (term < Term)
        {
            throw new RaftInvariantException($"Term would decrease from {Term} to {term}.");
        }

        if (term != Term)
        {
            Term = term;
            Vote = None;
        }
    }

    private void Send(Message message) => _messages.Add(message);
}
