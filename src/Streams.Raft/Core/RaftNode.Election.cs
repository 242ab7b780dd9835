using Streams.Raft.Messages;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>Roles, elections, pre-vote and check-quorum.</summary>
public sealed partial class RaftNode
{
    private void TickElection()
    {
        _electionElapsed++;
        if (_electionElapsed >= _randomizedElectionTimeout && IsVoter)
        {
            _electionElapsed = 0;
            Campaign(preVote: _config.PreVote);
        }
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_leadTransferee != None && ++_transferElapsed >= _config.ElectionTimeoutTicks)
        {
            // Thesis §3.10: a transfer that has not completed within an election timeout is
            // abandoned and the leader accepts proposals again.
            _leadTransferee = None;
        }

        if (_electionElapsed >= _config.ElectionTimeoutTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                if (!QuorumActive())
                {
                    BecomeFollower(Term, None);
                    return;
                }

                foreach (var (id, progress) in _progress)
                {
                    progress.RecentActive = id == Id;
                }
            }
        }

        if (_heartbeatElapsed >= _config.HeartbeatTimeoutTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }

        TickSnapshots();
    }

    private bool QuorumActive()
    {
        var members = _log.ConfState;
        return _progress.Count(p => members.IsVoter(p.Key) && (p.Key == Id || p.Value.RecentActive)) >= Quorum;
    }

    private void Campaign(bool preVote, bool transfer = false)
    {
        if (preVote)
        {
            BecomePreCandidate();
        }
        else
        {
            BecomeCandidate();
        }

        var term = preVote ? Term + 1 : Term;
        var type = preVote ? MessageType.PreVote : MessageType.Vote;
        if (RecordVote(Id, granted: true, preVote))
        {
            return;
        }

        foreach (var peer in _log.ConfState.Voters)
        {
            if (peer != Id)
            {
                Send(new Message { Type = type, From = Id, To = peer, Term = term, Index = _log.LastIndex, LogTerm = _log.LastTerm, Transfer = transfer });
            }
        }
    }

    /// <summary>Records a (pre-)vote; returns true when the election was decided by it.</summary>
    private bool RecordVote(long from, bool granted, bool preVote)
    {
        _votes.TryAdd(from, granted);

        // Only the voters of the membership in force count (a node removed meanwhile does not).
        var members = _log.ConfState;
        var grantedCount = _votes.Count(v => v.Value && members.IsVoter(v.Key));
        var rejectedCount = _votes.Count(v => !v.Value && members.IsVoter(v.Key));
        if (grantedCount >= Quorum)
        {
            if (preVote)
            {
                Campaign(preVote: false);
            }
            else
            {
                BecomeLeader();
            }

            return true;
        }

        if (rejectedCount >= Quorum)
        {
            BecomeFollower(Term, None);
            return true;
        }

        return false;
    }

    private void HandleVoteRequest(Message m)
    {
        var preVote = m.Type == MessageType.PreVote;
        var responseType = preVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;

        // §5.2: at most one vote per term, first come first served (a repeated request from the
        // candidate we voted for is granted again). A pre-vote for a later term commits to nothing.
        var canVote = Vote == m.From || (Vote == None && Leader == None) || (preVote && m.Term > Term);

        // §5.4.1: only for a candidate whose log is at least as up to date as ours.
        if (canVote && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = m.Term });
            if (!preVote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = Term, Reject = true });
        }
    }

    private void BecomeFollower(long term, long leader)
    {
        Reset(term);
        Leader = leader;
        Role = RaftRole.Follower;
    }

    private void BecomePreCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a pre-candidate.");
        }

        // Neither the term nor the vote changes: a pre-candidate that cannot win disrupts nothing.
        _votes.Clear();
        Leader = None;
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a candidate.");
        }

        // §5.2: increment the term and vote for yourself.
        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        if (Role != RaftRole.Candidate)
        {
            throw new InvalidOperationException("Only a candidate can become leader.");
        }

        Reset(Term);
        Leader = Id;
        Role = RaftRole.Leader;
        foreach (var member in _log.ConfState.Members.Append(Id).Distinct())
        {
            var progress = new Progress(_log.LastIndex + 1, _config.MaxInflightMessages);
            _progress[member] = progress;
        }

        var self = _progress[Id];
        self.MaybeUpdate(_log.LastIndex);
        self.BecomeReplicate();
        self.RecentActive = true;

        // §5.4.2 / §8: a new leader commits an entry of its own term (a no-op) so that entries of
        // earlier terms become committed through it.
        AppendEntries([new Storage.Entry(Term, _log.LastIndex + 1, ReadOnlyMemory<byte>.Empty)]);
        BroadcastAppend();
    }

    private void Reset(long term)
    {
        SetTerm(term);
        Leader = None;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.RandomSource.NextInRange(_config.ElectionTimeoutTicks, 2 * _config.ElectionTimeoutTicks);
        _votes.Clear();
        _progress.Clear();
        _leadTransferee = None;
        _transferElapsed = 0;
        ResetReads();
    }
}
