using Streams.Raft.Membership;
using Streams.Raft.Storage;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>
/// Membership changes one node at a time (thesis §4.1–4.3). A configuration takes effect on a
/// node as soon as its entry is in the node's log, committed or not, and is undone if a
/// truncation removes the entry. Safety needs two rules at the leader: one change at a time (the
/// previous one committed), and none before the leader has committed an entry of its own term.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>The membership in force: that of the last configuration entry in the log, committed or not.</summary>
    public ConfState ConfState => _log.ConfState;

    /// <summary>
    /// Proposes a single-node membership change. Only the leader accepts, and only when the
    /// previous change has committed. A node joins as a learner (it receives the log but does not
    /// vote), is promoted once it has caught up, and can be removed whatever its role. A leader
    /// that removes itself keeps leading until the change commits, then hands leadership to the
    /// most up-to-date voter and steps down.
    /// </summary>
    /// <param name="change">The change.</param>
    /// <returns>Accepted with the entry's index and term, or why not.</returns>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (Role != RaftRole.Leader)
        {
            return ProposeResult.NotLeader(Leader);
        }

        if (_leadTransferee != None)
        {
            return ProposeResult.TransferInProgress(Id);
        }

        if (_log.LastConfigIndex > _log.Committed)
        {
            return ProposeResult.ConfChangePending(Id, $"The membership change at index {_log.LastConfigIndex} has not committed yet; propose the next one after it.");
        }

        if (_log.Term(_log.Committed) != Term)
        {
            return ProposeResult.ConfChangePending(Id, "This leader has not committed an entry of its own term yet; retry in a moment.");
        }

        var current = _log.ConfState;
        var node = change.NodeId;
        ConfState next;
        switch (change.Type)
        {
            case ConfChangeType.AddLearner when node == None:
            case ConfChangeType.PromoteLearner when node == None:
            case ConfChangeType.RemoveNode when node == None:
                return ProposeResult.ConfChangeRejected(Id, "Node id 0 means \"none\"; name a real node.");
            case ConfChangeType.AddLearner:
                if (current.IsMember(node))
                {
                    return ProposeResult.ConfChangeRejected(Id, $"Node {node} is already a {(current.IsVoter(node) ? "voter" : "learner")}.");
                }

                next = new ConfState(current.Voters, current.Learners.Append(node));
                break;
            case ConfChangeType.PromoteLearner:
                if (!current.IsLearner(node))
                {
                    return ProposeResult.ConfChangeRejected(
                        Id, current.IsVoter(node) ? $"Node {node} is already a voter." : $"Node {node} is not a learner; add it as a learner first and promote it once it has caught up.");
                }

                var match = _progress.TryGetValue(node, out var progress) ? progress.Match : 0;
                if (match < _log.Committed)
                {
                    // Thesis §4.2.1: a new voter that is far behind would stall commitment while it
                    // catches up.
                    return ProposeResult.ConfChangeRejected(
                        Id, $"Learner {node} holds the log up to {match} but {_log.Committed} is committed; promote it once it has caught up.");
                }

                next = new ConfState(current.Voters.Append(node), current.Learners.Where(id => id != node));
                break;
            case ConfChangeType.RemoveNode:
                if (!current.IsMember(node))
                {
                    return ProposeResult.ConfChangeRejected(Id, $"Node {node} is not a member.");
                }

                if (current.IsVoter(node) && current.Voters.Count == 1)
                {
                    return ProposeResult.ConfChangeRejected(Id, $"Node {node} is the last voter; add and promote another node before removing it.");
                }

                next = new ConfState(current.Voters.Where(id => id != node), current.Learners.Where(id => id != node));
                break;
            default:
                return ProposeResult.ConfChangeRejected(Id, $"Unknown membership change {change.Type}.");
        }

        var entry = new Entry(Term, _log.LastIndex + 1, new ConfigEntry(change, next).Encode(), EntryType.Config);
        AppendEntries([entry]);
        SyncProgressWithMembership();
        BroadcastAppend();
        StepDownIfRemoved();
        return ProposeResult.Accepted(entry.Index, entry.Term);
    }

    /// <summary>
    /// A leader keeps one progress per member (and its own). Its membership changes only through
    /// its own configuration entries, since a leader's log is never truncated.
    /// </summary>
    private void SyncProgressWithMembership()
    {
        var members = _log.ConfState;
        foreach (var id in _progress.Keys.ToList())
        {
            if (id != Id && !members.IsMember(id))
            {
                _progress.Remove(id);
                if (_leadTransferee == id)
                {
                    _leadTransferee = None;
                }
            }
        }

        foreach (var id in members.Members)
        {
            if (!_progress.ContainsKey(id))
            {
                var progress = new Progress(_log.LastIndex + 1, _config.MaxInflightMessages) { RecentActive = true };
                _progress[id] = progress;
            }
        }
    }

    /// <summary>
    /// Thesis §4.2.2: a leader whose removal has committed hands leadership to the most
    /// up-to-date voter (so no election timeout is lost) and steps down; it is no longer a voter,
    /// so it never campaigns again.
    /// </summary>
    private void StepDownIfRemoved()
    {
        if (Role != RaftRole.Leader || IsVoter || _log.LastConfigIndex > _log.Committed)
        {
            return;
        }

        var best = _log.ConfState.Voters
            .Where(id => _progress.ContainsKey(id))
            .OrderByDescending(id => _progress[id].Match)
            .FirstOrDefault();
        if (best != None && _progress[best].Match == _log.LastIndex)
        {
            SendTimeoutNow(best);
        }

        BecomeFollower(Term, None);
    }
}
