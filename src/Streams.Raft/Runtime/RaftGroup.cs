using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Transport;

namespace Streams.Raft.Runtime;

/// <summary>
/// One Raft group on one node: owns a <see cref="RaftNode"/>, its <see cref="IRaftStorage"/> and
/// its <see cref="IStateMachine"/>, and runs them on one loop. Everything reaches the loop through
/// a single-reader inbox (received messages, ticks, proposals, reads, membership changes,
/// transfers); each round drains what is queued, so many proposals become one Ready and one
/// durable write (group commit), then persists, sends, applies and answers the waiting callers.
/// Created and ticked by a <see cref="RaftHost"/>. Thread-safe.
/// </summary>
public sealed partial class RaftGroup
{
    private readonly RaftGroupOptions _options;
    private readonly IRaftStorage _storage;
    private readonly IStateMachine _stateMachine;
    private readonly IRaftTransport _transport;
    private readonly RaftMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IRandomSource _randomSource;
    private readonly Channel<GroupCommand> _inbox = Channel.CreateUnbounded<GroupCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationToken _stopping;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RaftNode _node = null!;
    private Task _loop = Task.CompletedTask;
    private RaftGroupStatus _status;
    private int _queuedMessages;
    private int _pendingTicks;
    private Exception? _failure;

    internal RaftGroup(long nodeId, RaftGroupOptions options, IRaftStorage storage, IStateMachine stateMachine, IRaftTransport transport, RaftMetrics metrics, ILogger logger, int randomSeed, CancellationToken stopping)
    {
        _stopping = stopping;
        NodeId = nodeId;
        GroupId = options.GroupId;
        _options = options;
        _storage = storage;
        _stateMachine = stateMachine;
        _transport = transport;
        _metrics = metrics;
        _logger = logger;
        _randomSource = new SystemRandomSource(new Random(randomSeed));
        // Not from the seed: a restart with the same seed must still tell its reads from the
        // previous incarnation's.
        _readNonce = Random.Shared.NextInt64();
        _status = new RaftGroupStatus(GroupId, nodeId, RaftRole.Follower, 0, RaftNode.None, 0, 0, 0, ConfState.Empty);
    }

    /// <summary>The group's id.</summary>
    public long GroupId { get; }

    /// <summary>This node's id.</summary>
    public long NodeId { get; }

    /// <summary>The group's state as of the loop's last round.</summary>
    public RaftGroupStatus Status => Volatile.Read(ref _status);

    /// <summary>
    /// Completes when the group stops: successfully once removed or its host disposed, faulted
    /// with the cause when a failure of storage, state machine or a safety check stopped it.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Proposes an entry. Completes with its index once it is committed and applied on this node;
    /// the state machine has seen it by then.
    /// </summary>
    /// <param name="data">The payload. Not copied before the loop proposes it: do not change it until the task completes.</param>
    /// <param name="cancellationToken">Stops the wait; an entry already appended may still be applied.</param>
    /// <returns>The entry's index.</returns>
    /// <exception cref="NotLeaderException">This node is not the leader, or stopped being it before the entry was applied.</exception>
    /// <exception cref="ProposalDroppedException">Another entry was committed at its index: it will never apply.</exception>
    /// <exception cref="RaftGroupStoppedException">The group stopped.</exception>
    public ValueTask<long> ProposeAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<long>(cancellationToken)
            : Submit(GroupCommandKind.Propose, new ProposalWaiter(data, null), cancellationToken);

    /// <summary>
    /// Waits until a linearizable read may be served from this node's state machine (thesis
    /// §6.4): the leader confirmed its leadership with a majority, and this node applied up to the
    /// read index. Works on the leader and on followers (which ask the leader). Asks again while
    /// no answer comes, and gives up after <see cref="RaftGroupOptions.ReadIndexTimeoutTicks"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>The read index; the state machine has applied at least up to it.</returns>
    /// <exception cref="NotLeaderException">This node took the read as leader and lost leadership before confirming it.</exception>
    /// <exception cref="TimeoutException">No leader answered in time.</exception>
    /// <exception cref="RaftGroupStoppedException">The group stopped.</exception>
    public ValueTask<long> ReadIndexAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<long>(cancellationToken)
            : Submit(GroupCommandKind.Read, new ReadWaiter(), cancellationToken);

    /// <summary>
    /// Proposes a single-node membership change. Completes with the index of its configuration
    /// entry once that is committed and applied here (it is in force from the moment it is
    /// appended).
    /// </summary>
    /// <param name="change">The change.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>The configuration entry's index.</returns>
    /// <exception cref="NotLeaderException">This node is not the leader.</exception>
    /// <exception cref="MembershipChangeRefusedException">A change is pending already, or this one is invalid.</exception>
    /// <exception cref="RaftGroupStoppedException">The group stopped.</exception>
    public ValueTask<long> ProposeConfChangeAsync(ConfChange change, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<long>(cancellationToken)
            : Submit(GroupCommandKind.ConfChange, new ProposalWaiter(default, change), cancellationToken);

    /// <summary>
    /// Hands leadership to <paramref name="target"/> (thesis §3.10); completes once this node sees
    /// the target lead. Proposals are refused meanwhile.
    /// </summary>
    /// <param name="target">A voter of the group.</param>
    /// <param name="cancellationToken">Stops the wait (not the transfer).</param>
    /// <exception cref="NotLeaderException">This node is not the leader.</exception>
    /// <exception cref="LeadershipTransferFailedException">The transfer was refused, abandoned, or another node won.</exception>
    /// <exception cref="RaftGroupStoppedException">The group stopped.</exception>
    public async ValueTask TransferLeadershipAsync(long target, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await Submit(GroupCommandKind.Transfer, new TransferWaiter(target), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The membership in force on this node (that of the last configuration entry in its log), as
    /// of now rather than of the last published <see cref="Status"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <exception cref="RaftGroupStoppedException">The group stopped.</exception>
    public ValueTask<ConfState> GetConfStateAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<ConfState>(cancellationToken)
            : Submit(GroupCommandKind.QueryConfState, new RaftWaiter<ConfState>(), cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"Raft group {GroupId} on node {NodeId}";

    /// <summary>Queues a received message; drops it when the inbox holds too many (Raft resends).</summary>
    internal bool Deliver(Message message)
    {
        if (Interlocked.Increment(ref _queuedMessages) > _options.MaxQueuedMessages
            || !_inbox.Writer.TryWrite(new GroupCommand(GroupCommandKind.Message, message)))
        {
            Interlocked.Decrement(ref _queuedMessages);
            return false;
        }

        return true;
    }

    /// <summary>Counts one tick; at most one tick item is queued however many ticks pile up behind a slow round.</summary>
    internal void Tick()
    {
        if (Interlocked.Increment(ref _pendingTicks) == 1)
        {
            _inbox.Writer.TryWrite(new GroupCommand(GroupCommandKind.Tick, null));
        }
    }

    /// <summary>
    /// Creates the node from storage, first restoring the state machine from the stored snapshot
    /// when it is ahead of what the state machine has applied, then starts the loop.
    /// </summary>
    internal async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        var applied = _options.AppliedIndex;
        if (_storage.Snapshot is { } snapshot && snapshot.Metadata.Index > applied)
        {
            await _stateMachine.RestoreAsync(snapshot, cancellationToken).ConfigureAwait(false);
            applied = snapshot.Metadata.Index;
            RaftRuntimeLog.SnapshotRestored(_logger, GroupId, NodeId, applied, snapshot.Data.Length);
        }

        _node = new RaftNode(_options.ToRaftConfig(NodeId, applied, _randomSource), _storage);
        _applied = _node.AppliedIndex;
        PublishStatus();
        RaftRuntimeLog.GroupStarted(_logger, GroupId, NodeId, _node.Term, _node.CommitIndex, _applied, _node.LastIndex, _storage.FirstIndex - 1);
        _loop = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>
    /// Waits for the loop to end once the host has cancelled the group's token (which also
    /// cancels a write or apply in progress); pending and later requests fail with
    /// <see cref="RaftGroupStoppedException"/>.
    /// </summary>
    internal async ValueTask StopAsync()
    {
        _inbox.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (!_completion.Task.IsCompleted)
        {
            // Never started: nothing ran, nothing waits.
            _completion.TrySetResult();
        }
    }

    private ValueTask<T> Submit<T>(GroupCommandKind kind, RaftWaiter<T> waiter, CancellationToken cancellationToken)
    {
        waiter.WatchCancellation(cancellationToken);
        if (!_inbox.Writer.TryWrite(new GroupCommand(kind, waiter)))
        {
            waiter.Fail(StoppedError());
        }

        return new ValueTask<T>(waiter.Task);
    }

    private RaftGroupStoppedException StoppedError() =>
        Volatile.Read(ref _failure) is { } failure
            ? new RaftGroupStoppedException($"{this} stopped after a failure: {failure.Message}", failure)
            : new RaftGroupStoppedException($"{this} is stopped.");

    private void PublishStatus()
    {
        var node = _node;
        var current = _status;
        if (current.Role == node.Role && current.Term == node.Term && current.Leader == node.Leader
            && current.CommitIndex == node.CommitIndex && current.AppliedIndex == _applied && current.LastIndex == node.LastIndex
            && ReferenceEquals(current.ConfState, node.ConfState))
        {
            return;
        }

        Volatile.Write(ref _status, new RaftGroupStatus(GroupId, NodeId, node.Role, node.Term, node.Leader, node.CommitIndex, _applied, node.LastIndex, node.ConfState));
    }
}
