using Streams.Raft.Messages;

namespace Streams.Raft.Core;

/// <summary>Linearizable reads by ReadIndex (Raft thesis §6.4).</summary>
public sealed partial class RaftNode
{
    private readonly List<PendingRead> _pendingReads = [];
    private readonly List<(long From, ReadOnlyMemory<byte> Context)> _deferredReads = [];
    private long _readRound;

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

        if (Quorum == 1 || _config.UnsafeReadIndexWithoutHeartbeats)
        {
            RespondToRead(from, _log.Committed, context);
            return;
        }

        var read = new PendingRead(++_readRound, _log.Committed, from, context);
        read.Acks.Add(Id);
        _pendingReads.Add(read);
        if (broadcast)
        {
            BroadcastHeartbeat();
        }
    }

    /// <summary>The read round and context heartbeats carry: the latest pending read's, or (0, empty).</summary>
    private (long Round, ReadOnlyMemory<byte> Context) CurrentReadRound() =>
        _pendingReads.Count > 0 ? (_pendingReads[^1].Round, _pendingReads[^1].Context) : (0, ReadOnlyMemory<byte>.Empty);

    /// <summary>
    /// A voter acknowledged a heartbeat of read round <paramref name="round"/>: that heartbeat was
    /// sent after every read of a round up to it was accepted, so it confirms all of them.
    /// </summary>
    private void OnReadRoundAcknowledged(long from, long round)
    {
        if (round == 0)
        {
            return;
        }

        foreach (var read in _pendingReads)
        {
            if (read.Round > round)
            {
                break;
            }

            read.Acks.Add(from);
        }

        var released = 0;
        while (released < _pendingReads.Count && _pendingReads[released].Acks.Count >= Quorum)
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

    private void ResetReads()
    {
        _pendingReads.Clear();
        _deferredReads.Clear();
    }
}
