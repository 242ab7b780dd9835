using Streams.Raft.Messages;

namespace Streams.Raft.Core;

/// <summary>Message handling: term rules (§5.1) and dispatch by role.</summary>
public sealed partial class RaftNode
{
    /// <summary>Feeds a message received from a peer.</summary>
    /// <param name="message">A message addressed to this node.</param>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Id)
        {
            throw new ArgumentException($"Message for node {message.To} stepped into node {Id}.", nameof(message));
        }

        if (!StepTerm(message))
        {
            return;
        }

        switch (message.Type)
        {
            case MessageType.Vote:
            case MessageType.PreVote:
                HandleVoteRequest(message);
                return;
            default:
                break;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(message);
                break;
            case RaftRole.Candidate:
            case RaftRole.PreCandidate:
                StepCandidate(message);
                break;
            default:
                StepFollower(message);
                break;
        }

        StepDownIfRemoved();
    }

    /// <summary>Applies the term rules; returns false when the message is fully handled (or ignored).</summary>
    private bool StepTerm(Message m)
    {
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                // Check-quorum lease: a node that heard from a leader within the minimum election
                // timeout ignores vote requests, so a partitioned node that comes back with a
                // higher term cannot depose a healthy leader.
                // A vote for a leadership transfer comes from the leader's own choice and passes.
                // With lease reads, a node that just started honours the lease it may have promised
                // before a crash, which it cannot remember.
                var leaderKnown = Leader != None || (_config.ReadOnly == ReadOnlyMode.LeaseBased && _ticks < _config.ElectionTimeoutTicks);
                var inLease = _config.CheckQuorum && leaderKnown && _electionElapsed < _config.ElectionTimeoutTicks && !m.Transfer;
                if (inLease)
                {
                    return false;
                }
            }

            if (m.Type == MessageType.PreVote || (m.Type == MessageType.PreVoteResponse && !m.Reject))
            {
                // A pre-vote never changes our term; a granted pre-vote answer carries the term
                // the pre-candidate will campaign in, and the term changes when it does.
                return true;
            }

            // §5.1: "If a server discovers that its term is out of date, it immediately reverts to
            // follower state" (and adopts the larger term).
            var leader = m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot ? m.From : None;
            BecomeFollower(m.Term, leader);
            return true;
        }

        if (m.Term < Term)
        {
            // §5.1: "If a server receives a request with a stale term number, it rejects the request."
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                // Tell a stale leader the newer term so it steps down; with pre-vote or
                // check-quorum this node may not otherwise raise the leader's term.
                Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Reject = false, Index = 0 });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, From = Id, To = m.From, Term = Term, Reject = true });
            }

            return false;
        }

        return true;
    }

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                _electionElapsed = 0;
                Leader = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Leader = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                _electionElapsed = 0;
                Leader = m.From;
                HandleSnapshotChunk(m);
                break;
            case MessageType.TimeoutNow:
                HandleTimeoutNow(m);
                break;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
            default:
                break;
        }
    }

    private void StepCandidate(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                // §5.2: a candidate that hears from a leader of its term returns to follower.
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshotChunk(m);
                break;
            case MessageType.VoteResponse when Role == RaftRole.Candidate:
                RecordVote(m.From, !m.Reject, preVote: false);
                break;
            case MessageType.PreVoteResponse when Role == RaftRole.PreCandidate:
                RecordVote(m.From, !m.Reject, preVote: true);
                break;
            default:
                break;
        }
    }

    private void StepLeader(Message m)
    {
        if (!_progress.TryGetValue(m.From, out var progress))
        {
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppendResponse:
                progress.RecentActive = true;
                HandleAppendResponse(m, progress);
                if (m.From == _leadTransferee && progress.Match == _log.LastIndex)
                {
                    SendTimeoutNow(m.From);
                }

                break;
            case MessageType.HeartbeatResponse:
                progress.RecentActive = true;
                progress.OnHeartbeatResponse();
                OnHeartbeatRoundAcknowledged(m.From, progress, m.Index);
                if (progress.Match < _log.LastIndex)
                {
                    SendAppend(m.From, progress, sendIfEmpty: true);
                }

                break;
            case MessageType.SnapshotResponse:
                progress.RecentActive = true;
                HandleSnapshotResponse(m, progress);
                break;
            case MessageType.ReadIndex:
                AcceptRead(m.From, m.Context);
                break;
            default:
                break;
        }
    }
}
