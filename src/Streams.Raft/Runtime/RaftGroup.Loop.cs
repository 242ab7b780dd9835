using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;

namespace Streams.Raft.Runtime;

/// <summary>The loop: drain the inbox, then handle every Ready (persist, send, apply, answer).</summary>
public sealed partial class RaftGroup
{
    private long _applied;
    private long _ticks;

    private async Task RunAsync()
    {
        var stopping = _stopping;
        Exception? failure = null;
        try
        {
            var reader = _inbox.Reader;
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                // Everything queued goes into one round: many proposals, one Ready, one write.
                for (var handled = 0; handled < _options.MaxCommandsPerRound && reader.TryRead(out var command); handled++)
                {
                    Handle(command);
                }

                await HandleReadiesAsync(stopping).ConfigureAwait(false);
                PublishStatus();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Removed, or the host stopped, while the group waited, wrote or applied.
        }
        catch (Exception ex)
        {
            // Storage, state machine or a safety check failed: after a failed write or apply, the
            // log, the disk and the state machine may disagree, so the group must not go on.
            failure = ex;
            RaftRuntimeLog.GroupFailed(_logger, ex, GroupId, NodeId);
        }

        Shutdown(failure);
    }

    private void Handle(GroupCommand command)
    {
        switch (command.Kind)
        {
            case GroupCommandKind.Message:
                Interlocked.Decrement(ref _queuedMessages);
                _node.Step((Message)command.Payload!);
                break;
            case GroupCommandKind.Tick:
                var ticks = Interlocked.Exchange(ref _pendingTicks, 0);
                for (var i = 0; i < ticks; i++)
                {
                    _node.Tick();
                    _ticks++;
                }

                OnTicks();
                break;
            case GroupCommandKind.Propose:
            case GroupCommandKind.ConfChange:
                HandlePropose((ProposalWaiter)command.Payload!);
                break;
            case GroupCommandKind.Read:
                HandleRead((ReadWaiter)command.Payload!);
                break;
            case GroupCommandKind.Transfer:
                HandleTransfer((TransferWaiter)command.Payload!);
                break;
            case GroupCommandKind.QueryConfState:
                ((RaftWaiter<ConfState>)command.Payload!).Succeed(_node.ConfState);
                break;
            default:
                throw new InvalidOperationException($"Unknown group command {command.Kind}.");
        }

        ObserveLeadership();
    }

    /// <summary>The Ready contract: persist, then send, then restore and apply, then advance.</summary>
    private async ValueTask HandleReadiesAsync(CancellationToken stopping)
    {
        while (_node.HasReady)
        {
            var ready = _node.GetReady();
            if (ready.HardState is not null || ready.Entries.Count > 0 || ready.Snapshot is not null)
            {
                await _storage.SaveAsync(ready.HardState, ready.Entries, ready.Snapshot, stopping).ConfigureAwait(false);
                _metrics.Saved();
            }

            var messages = ready.Messages;
            for (var i = 0; i < messages.Count; i++)
            {
                _transport.Send(GroupId, messages[i]);
            }

            if (ready.Snapshot is { } snapshot)
            {
                await _stateMachine.RestoreAsync(snapshot, stopping).ConfigureAwait(false);
                OnSnapshotRestored(snapshot);
            }

            var committed = ready.CommittedEntries;
            if (committed.Count > 0)
            {
                await _stateMachine.ApplyAsync(committed, stopping).ConfigureAwait(false);
                _applied = committed[^1].Index;
                _metrics.Applied(committed.Count);
                PublishStatus();
                OnApplied(committed);
            }

            PublishStatus();
            OnReadStates(ready.ReadStates);
            _node.Advance(ready);
            CompleteAppliedReads();
            ObserveLeadership();
            await MaybeSnapshotAsync(stopping).ConfigureAwait(false);
        }
    }

    private void OnSnapshotRestored(Snapshot snapshot)
    {
        _applied = snapshot.Metadata.Index;
        RaftRuntimeLog.SnapshotRestored(_logger, GroupId, NodeId, _applied, snapshot.Data.Length);

        // Proposals a snapshot covers cannot be matched to their entries any more; a node gets a
        // snapshot only as a follower, which has already failed them, so this is a safeguard.
        while (_proposals.TryPeek(out var proposal) && proposal.Index <= _applied)
        {
            _proposals.Dequeue();
            proposal.Fail(new NotLeaderException(GroupId, NodeId, _node.Leader, mayHaveCommitted: true));
        }
    }

    /// <summary>
    /// After applying: once <see cref="RaftGroupOptions.SnapshotEveryEntries"/> entries were
    /// applied since the last snapshot, snapshot the state machine and compact the log behind it.
    /// </summary>
    private async ValueTask MaybeSnapshotAsync(CancellationToken stopping)
    {
        var every = _options.SnapshotEveryEntries;
        var applied = _node.AppliedIndex;
        // The storage's first index is one past its latest snapshot, taken here or received.
        if (every <= 0 || applied - (_storage.FirstIndex - 1) < every)
        {
            return;
        }

        var data = await _stateMachine.SnapshotAsync(stopping).ConfigureAwait(false);
        var snapshot = new Snapshot(_node.SnapshotMetadataAt(applied), data);
        await _storage.CompactAsync(snapshot, stopping).ConfigureAwait(false);
        RaftRuntimeLog.SnapshotTaken(_logger, GroupId, NodeId, applied, data.Length);
    }

    private void Shutdown(Exception? failure)
    {
        if (failure is not null)
        {
            Volatile.Write(ref _failure, failure);
        }

        _inbox.Writer.TryComplete();
        var error = StoppedError();
        while (_inbox.Reader.TryRead(out var command))
        {
            switch (command.Payload)
            {
                case RaftWaiter<long> waiter:
                    waiter.Fail(error);
                    break;
                case RaftWaiter<bool> waiter:
                    waiter.Fail(error);
                    break;
                case RaftWaiter<ConfState> waiter:
                    waiter.Fail(error);
                    break;
                default:
                    break;
            }
        }

        FailAllWaiters(error);
        if (failure is null)
        {
            RaftRuntimeLog.GroupStopped(_logger, GroupId, NodeId);
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(failure);
        }
    }
}
