using Streams.Raft.Messages;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>
/// Linearizable reads (Raft thesis §6.4): by ReadIndex, confirmed by a heartbeat round, or by the
/// leader's lease (§6.4.1). Every heartbeat broadcast is a numbered round; followers echo the
/// number, so the leader knows which of its rounds each follower has seen and when it sent it.
/// </summary>
public sealed partial class RaftNode
{
    private readonly List<PendingRead> _pendingReads = [];
    private readonly List<(long From, ReadOnlyMemory<byte> Context)> _deferredReads = [];

    // The heartbeat rounds of the last election timeout or so, with the tick each was sent at.
    private readonly Queue<(long Round, long Tick)> _rounds = new();
    private long _heartbeatRound;

    // Ticks since this node was created: the leader's clock for leases, and for a restarted
    // follower, the time it must wait before it may vote (it forgot whose lease it honoured).
    private long _ticks;

    // Set once this leader sent TimeoutNow: the target's election passes followers' leases, so
    // this leader's lease is void for the rest of its term.
    private bool _leaseVoid;

    /// <summary>
    /// Requests a linearizable read (thesis §6.4). On the leader: its commit index becomes the
    /// read index, a heartbeat round carrying the context confirms it is still the leader, and
    /// once a majority acknowledges, a <see cref="ReadState"/> appears in
    /// <see cref="Ready.ReadStates"/>. A leader that has not yet committed an entry of its term
    /// waits until it has. On a follower the request is forwarded to the known leader and the
    /// follower emits the <see cref="ReadState"/> the leader answers with. The context is copied.
    /// </summary>
    /// <param name="requestContext">Identifies the read; returned in its <see cref="ReadState"/>.</param>
    /// <returns>Whether the read is pending here, forwarded, or dropped for want of a leader.</returns>
    public ReadIndexStatus ReadIndex(ReadOnlyMemory<byte> requestContext)
    {
        var context = requestContext.ToArray();
        if (Role == RaftRole.Leader)
        {
            AcceptRead(Id, context);
            return ReadIndexStatus.Pending;
        }

        if (Leader == None)
        {
            return ReadIndexStatus.NoLeader;
        }

        Send(new Message { Type = MessageType.ReadIndex, From = Id, To = Leader, Term = Term, Context = context });
        return ReadIndexStatus.Forwarded;
    }

    private void AcceptRead(long from, ReadOnlyMemory<byte> context, bool broadcast = true)
    {
        if (_log.Term(_log.Committed) != Term)
        {
            // Thesis §6.4 step 1: until the leader commits an entry of its term (its no-op), its
            // commit index may lag entries earlier leaders committed.
            _deferredReads.Add((from, context));
            return;
        }

        if ((Quorum == 1 && IsVoter) || _config.UnsafeReadIndexWithoutHeartbeats || HoldsLease())
        {
            RespondToRead(from, _log.Committed, context);
            return;
        }

        // Confirmed by the next heartbeat round: one sent after the read was accepted.
        var read = new PendingRead(_heartbeatRound + 1, _log.Committed, from, context);
        read.Acks.Add(Id);
        _pendingReads.Add(read);
        if (broadcast)
        {
            BroadcastHeartbeat();
        }
    }

    /// <summary>Starts a heartbeat round: its number, and the context of the latest pending read (or empty).</summary>
    private (long Round, ReadOnlyMemory<byte> Context) NextHeartbeatRound()
    {
        _heartbeatRound++;
        _rounds.Enqueue((_heartbeatRound, _ticks));
        while (_rounds.Count > 1 && _rounds.Peek().Tick < _ticks - (2 * _config.ElectionTimeoutTicks))
        {
            _rounds.Dequeue();
        }

        return (_heartbeatRound, _pendingReads.Count > 0 ? _pendingReads[^1].Context : ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>
    /// A follower acknowledged heartbeat round <paramref name="round"/>: that heartbeat was sent
    /// after every read of a round up to it was accepted, so it confirms all of them; and it
    /// renews the follower's part of the lease from the tick the round was sent at.
    /// </summary>
    private void OnHeartbeatRoundAcknowledged(long from, Progress progress, long round)
    {
        if (round == 0)
        {
            return;
        }

        foreach (var (r, tick) in _rounds)
        {
            if (r == round)
            {
                progress.LeaseTick = Math.Max(progress.LeaseTick, tick);
                break;
            }
        }

        foreach (var read in _pendingReads)
        {
            if (read.Round > round)
            {
                break;
            }

            read.Acks.Add(from);
        }

        var members = _log.ConfState;
        var released = 0;
        while (released < _pendingReads.Count && _pendingReads[released].Acks.Count(members.IsVoter) >= Quorum)
        {
            var read = _pendingReads[released++];
            RespondToRead(read.From, read.Index, read.Context);
        }

        _pendingReads.RemoveRange(0, released);
    }

    private void RespondToRead(long from, long index, ReadOnlyMemory<byte> context)
    {
        if (from == Id)
        {
            _readStates.Add(new ReadState(index, context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = from, Term = Term, Index = index, Context = context });
        }
    }

    /// <summary>The leader committed: reads that waited for an entry of its term may now start.</summary>
    private void OnCurrentTermCommitted()
    {
        if (Role != RaftRole.Leader || _deferredReads.Count == 0 || _log.Term(_log.Committed) != Term)
        {
            return;
        }

        var deferred = _deferredReads.ToList();
        _deferredReads.Clear();
        foreach (var (from, context) in deferred)
        {
            AcceptRead(from, context, broadcast: false);
        }

        if (_pendingReads.Count > 0)
        {
            BroadcastHeartbeat();
        }
    }

    /// <summary>
    /// Thesis §6.4.1: a quorum of voters saw a heartbeat this leader sent at tick S, and each of
    /// them refuses to vote for an election timeout after receiving it (check-quorum), so no other
    /// leader can exist before S + election timeout. The lease ends earlier by the clock-drift
    /// bound, because each follower counts the timeout on its own clock.
    /// </summary>
    private bool HoldsLease()
    {
        if (_config.ReadOnly != ReadOnlyMode.LeaseBased || !_config.CheckQuorum || _leaseVoid)
        {
            return false;
        }

        var voters = _log.ConfState.Voters;
        Span<long> ticks = voters.Count <= 16 ? stackalloc long[voters.Count] : new long[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            ticks[i] = voters[i] == Id ? _ticks : _progress.TryGetValue(voters[i], out var p) ? p.LeaseTick : long.MinValue / 2;
        }

        ticks.Sort();
        var start = ticks[voters.Count - Quorum];
        return _ticks < start + _config.ElectionTimeoutTicks - _config.MaxClockDriftTicks;
    }

    private void ResetReads()
    {
        _pendingReads.Clear();
        _deferredReads.Clear();
        _rounds.Clear();
        _leaseVoid = false;
    }
}
