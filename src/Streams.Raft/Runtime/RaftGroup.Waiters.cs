using System.Buffers.Binary;
using Streams.Raft.Core;
using Streams.Raft.Storage;

namespace Streams.Raft.Runtime;

/// <summary>The callers waiting on the loop: proposals, reads and transfers, and when each is answered.</summary>
public sealed partial class RaftGroup
{
    private const int ReadContextBytes = 16;

    // Proposals accepted by this node as leader, in index order (one leader term at a time).
    private readonly Queue<ProposalWaiter> _proposals = new();

    // Reads without a read index yet, by id.
    private readonly Dictionary<long, ReadWaiter> _reads = [];

    // Reads with a read index, until the state machine reaches it.
    private readonly PriorityQueue<ReadWaiter, long> _readsAwaitingApply = new();

    // Request contexts are (nonce, id): a late answer to a read of an earlier incarnation of this
    // group on this node cannot be taken for an answer to a new read.
    private readonly long _readNonce;
    private long _lastReadId;
    private TransferWaiter? _transfer;
    private long _leaderTerm;
    private long _observedLeader;

    private void HandlePropose(ProposalWaiter waiter)
    {
        if (waiter.IsDone)
        {
            return;
        }

        var result = waiter.Change is { } change ? _node.ProposeConfChange(change) : _node.Propose(waiter.Data);
        waiter.Data = default;
        _metrics.Proposed(result.IsAccepted);
        switch (result.Status)
        {
            case ProposeStatus.Accepted:
                waiter.Index = result.Index;
                waiter.Term = result.Term;
                _proposals.Enqueue(waiter);
                break;
            case ProposeStatus.NotLeader:
                waiter.Fail(new NotLeaderException(GroupId, NodeId, result.LeaderHint, mayHaveCommitted: false));
                break;
            case ProposeStatus.TransferInProgress:
                // The transfer's target is about to lead: send the caller there.
                waiter.Fail(new NotLeaderException(GroupId, NodeId, _node.LeadTransferee, mayHaveCommitted: false));
                break;
            default:
                waiter.Fail(new MembershipChangeRefusedException(GroupId, result.Status, result.Reason));
                break;
        }
    }

    /// <summary>Answers the proposals whose index was applied: the same entry (index and term) succeeded, another one replaced it.</summary>
    private void OnApplied(IReadOnlyList<Entry> committed)
    {
        if (_proposals.Count == 0)
        {
            return;
        }

        for (var i = 0; i < committed.Count && _proposals.Count > 0; i++)
        {
            var entry = committed[i];
            while (_proposals.TryPeek(out var proposal) && proposal.Index <= entry.Index)
            {
                _proposals.Dequeue();
                if (proposal.Index == entry.Index && proposal.Term == entry.Term)
                {
                    proposal.Succeed(entry.Index);
                }
                else
                {
                    proposal.Fail(new ProposalDroppedException(GroupId, proposal.Index, proposal.Term));
                }
            }
        }
    }

    private void HandleRead(ReadWaiter waiter)
    {
        if (waiter.IsDone)
        {
            return;
        }

        waiter.Id = ++_lastReadId;
        var context = new byte[ReadContextBytes];
        BinaryPrimitives.WriteInt64LittleEndian(context, _readNonce);
        BinaryPrimitives.WriteInt64LittleEndian(context.AsSpan(8), waiter.Id);
        waiter.Context = context;
        waiter.DeadlineTick = _ticks + _options.ReadIndexTimeoutTicks;
        _reads[waiter.Id] = waiter;
        IssueRead(waiter);
    }

    private void IssueRead(ReadWaiter waiter)
    {
        var status = _node.ReadIndex(waiter.Context);
        waiter.LeaderTerm = status == ReadIndexStatus.Pending ? _node.Term : 0;

        // Forwarded reads and reads without a leader are asked again after an election timeout:
        // the forward or its answer may be lost, or a leader may be elected meanwhile.
        waiter.RetryTick = _ticks + _options.ElectionTimeoutTicks;
    }

    private void OnReadStates(IReadOnlyList<ReadState> readStates)
    {
        for (var i = 0; i < readStates.Count; i++)
        {
            var state = readStates[i];
            var context = state.RequestContext.Span;
            if (context.Length != ReadContextBytes
                || BinaryPrimitives.ReadInt64LittleEndian(context) != _readNonce
                || !_reads.Remove(BinaryPrimitives.ReadInt64LittleEndian(context[8..]), out var waiter)
                || waiter.IsDone)
            {
                continue;
            }

            if (state.Index <= _applied)
            {
                waiter.Succeed(state.Index);
            }
            else
            {
                _readsAwaitingApply.Enqueue(waiter, state.Index);
            }
        }
    }

    private void CompleteAppliedReads()
    {
        while (_readsAwaitingApply.TryPeek(out var waiter, out var index) && index <= _applied)
        {
            _readsAwaitingApply.Dequeue();
            waiter.Succeed(index);
        }
    }

    private void HandleTransfer(TransferWaiter waiter)
    {
        if (waiter.IsDone)
        {
            return;
        }

        switch (_node.TransferLeadership(waiter.Target))
        {
            case TransferLeadershipStatus.Started:
                waiter.Term = _node.Term;

                // The core abandons a transfer after an election timeout; this bounds the wait
                // for the target to be seen leading after it won.
                waiter.DeadlineTick = _ticks + (3L * _options.ElectionTimeoutTicks);
                _transfer = waiter;
                break;
            case TransferLeadershipStatus.TargetIsSelf:
                waiter.Succeed(true);
                break;
            case TransferLeadershipStatus.NotLeader:
                waiter.Fail(new NotLeaderException(GroupId, NodeId, _node.Leader, mayHaveCommitted: false));
                break;
            case TransferLeadershipStatus.TargetNotVoter:
                waiter.Fail(new LeadershipTransferFailedException($"Node {waiter.Target} is not a voter of Raft group {GroupId}; leadership can only go to a voter."));
                break;
            default:
                waiter.Fail(new LeadershipTransferFailedException($"A transfer of the leadership of Raft group {GroupId} to node {_node.LeadTransferee} is already in progress; wait for it to finish."));
                break;
        }
    }

    private void CheckTransfer(TransferWaiter waiter)
    {
        if (waiter.IsDone)
        {
            _transfer = null;
            return;
        }

        Exception? failure = null;
        if (_node.Role != RaftRole.Leader || _node.Term != waiter.Term)
        {
            if (_node.Leader == waiter.Target)
            {
                PublishStatus();
                waiter.Succeed(true);
            }
            else if (_node.Leader != RaftNode.None)
            {
                failure = new LeadershipTransferFailedException($"Node {_node.Leader} became the leader of Raft group {GroupId} instead of node {waiter.Target}.");
            }
        }
        else if (_node.LeadTransferee == RaftNode.None)
        {
            failure = new LeadershipTransferFailedException($"The leader of Raft group {GroupId} abandoned the transfer to node {waiter.Target}: it did not catch up within an election timeout.");
        }

        if (failure is not null)
        {
            waiter.Fail(failure);
        }

        if (waiter.IsDone)
        {
            _transfer = null;
        }
    }

    private void OnTicks()
    {
        if (_reads.Count > 0)
        {
            foreach (var (id, waiter) in _reads)
            {
                if (waiter.IsDone)
                {
                    _reads.Remove(id);
                }
                else if (_ticks >= waiter.DeadlineTick)
                {
                    _reads.Remove(id);
                    waiter.Fail(new TimeoutException($"No leader of Raft group {GroupId} confirmed a read for node {NodeId} within {_options.ReadIndexTimeoutTicks} ticks; retry once a leader is elected."));
                }
                else if (waiter.LeaderTerm == 0 && _ticks >= waiter.RetryTick)
                {
                    IssueRead(waiter);
                }
            }
        }

        if (_transfer is { } transfer && _ticks >= transfer.DeadlineTick)
        {
            transfer.Fail(new LeadershipTransferFailedException($"Node {transfer.Target} was not seen leading Raft group {GroupId} in time."));
            _transfer = null;
        }
    }

    /// <summary>
    /// Notices leader changes; when this node stops leading, fails what only a leader could
    /// finish (proposals, reads it took as leader) rather than leave them hanging.
    /// </summary>
    private void ObserveLeadership()
    {
        var node = _node;
        if (node.Leader != _observedLeader)
        {
            _observedLeader = node.Leader;
            if (node.Leader != RaftNode.None)
            {
                _metrics.LeaderChanged();
                RaftRuntimeLog.LeaderChanged(_logger, GroupId, NodeId, node.Leader, node.Term);
            }
        }

        if (_leaderTerm != 0 && (node.Role != RaftRole.Leader || node.Term != _leaderTerm))
        {
            // Callers told "not leader" then find the new state in Status.
            _leaderTerm = 0;
            PublishStatus();
            FailLeaderWaiters(node.Leader);
        }

        if (_leaderTerm == 0 && node.Role == RaftRole.Leader)
        {
            _leaderTerm = node.Term;
        }

        if (_transfer is { } transfer)
        {
            CheckTransfer(transfer);
        }
    }

    private void FailLeaderWaiters(long leaderHint)
    {
        while (_proposals.TryDequeue(out var proposal))
        {
            proposal.Fail(new NotLeaderException(GroupId, NodeId, leaderHint, mayHaveCommitted: true));
        }

        foreach (var (id, read) in _reads)
        {
            if (read.LeaderTerm != 0)
            {
                _reads.Remove(id);
                read.Fail(new NotLeaderException(GroupId, NodeId, leaderHint, mayHaveCommitted: false));
            }
        }
    }

    private void FailAllWaiters(Exception error)
    {
        while (_proposals.TryDequeue(out var proposal))
        {
            proposal.Fail(error);
        }

        foreach (var read in _reads.Values)
        {
            read.Fail(error);
        }

        _reads.Clear();
        while (_readsAwaitingApply.TryDequeue(out var read, out _))
        {
            read.Fail(error);
        }

        _transfer?.Fail(error);
        _transfer = null;
    }
}
