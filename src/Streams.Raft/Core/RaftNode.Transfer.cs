using Streams.Raft.Messages;

namespace Streams.Raft.Core;

/// <summary>Leadership transfer (Raft thesis §3.10).</summary>
public sealed partial class RaftNode
{
    private long _leadTransferee;
    private int _transferElapsed;

    /// <summary>The node leadership is being transferred to, or <see cref="None"/>.</summary>
    public long LeadTransferee => _leadTransferee;

    /// <summary>
    /// Starts handing leadership to <paramref name="target"/> (thesis §3.10): the leader stops
    /// accepting proposals, brings the target's log up to date, then sends it a
    /// <see cref="MessageType.TimeoutNow"/> so it starts an election at once. A transfer that has
    /// not succeeded within an election timeout is abandoned and proposals are accepted again.
    /// </summary>
    /// <param name="target">A voter other than this node.</param>
    /// <returns><see cref="TransferLeadershipStatus.Started"/>, or why nothing changed.</returns>
    public TransferLeadershipStatus TransferLeadership(long target)
    {
        if (Role != RaftRole.Leader)
        {
            return TransferLeadershipStatus.NotLeader;
        }

        if (target == Id)
        {
            return TransferLeadershipStatus.TargetIsSelf;
        }

        if (!_log.ConfState.IsVoter(target))
        {
            return TransferLeadershipStatus.TargetNotVoter;
        }

        if (_leadTransferee != None)
        {
            return TransferLeadershipStatus.AlreadyInProgress;
        }

        _leadTransferee = target;
        _transferElapsed = 0;
        var progress = _progress[target];
        if (progress.Match == _log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target, progress, sendIfEmpty: true);
        }

        return TransferLeadershipStatus.Started;
    }

    private void SendTimeoutNow(long to)
    {
        _leaseVoid = true;
        Send(new Message { Type = MessageType.TimeoutNow, From = Id, To = to, Term = Term });
    }

    private void HandleTimeoutNow(Message m)
    {
        // Only a voter campaigns, and only at the request of a voter or of the leader it follows
        // (which, having just removed itself, is no longer a voter).
        if (!IsVoter || (m.From != Leader && !_log.ConfState.IsVoter(m.From)))
        {
            return;
        }

        // Thesis §3.10: start an election at once, skipping pre-vote (the leader asked for it) and
        // marking the vote requests so voters in a check-quorum lease still answer.
        Campaign(preVote: false, transfer: true);
    }
}
