using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>Log replication (§5.3) and commitment (§5.4.2).</summary>
public sealed partial class RaftNode
{
    private void AppendEntries(IReadOnlyList<Entry> entries)
    {
        _log.Append(entries);
        _progress[Id].MaybeUpdate(_log.LastIndex);
        MaybeCommit();
    }

    /// <summary>
    /// §5.3/§5.4.2: the highest index held by a majority becomes committed, but only if its entry
    /// is of the current term ("Raft never commits log entries from previous terms by counting
    /// replicas").
    /// </summary>
    private bool MaybeCommit()
    {
        // The Quorum-th highest match index is held by a majority. Sorted on the stack: this runs
        // on every acknowledgement a leader receives.
        var voters = _log.ConfState.Voters;
        Span<long> matches = voters.Count <= 16 ? stackalloc long[voters.Count] : new long[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            matches[i] = _progress.TryGetValue(voters[i], out var progress) ? progress.Match : 0;
        }

        matches.Sort();
        var majorityMatch = matches[voters.Count - Quorum];
        if (majorityMatch <= _log.Committed)
        {
            return false;
        }

        if (_log.Term(majorityMatch) != Term && !_config.UnsafeCommitEntriesOfEarlierTerms)
        {
            return false;
        }

        _log.CommitTo(majorityMatch);
        OnCurrentTermCommitted();
        return true;
    }

    private void BroadcastAppend()
    {
        foreach (var (id, progress) in _progress)
        {
            if (id != Id)
            {
                SendAppend(id, progress, sendIfEmpty: true);
            }
        }
    }

    private void BroadcastHeartbeat()
    {
        var (round, context) = NextHeartbeatRound();
        foreach (var (id, progress) in _progress)
        {
            if (id != Id)
            {
                var commit = Math.Min(progress.Match, _log.Committed);
                Send(new Message { Type = MessageType.Heartbeat, From = Id, To = id, Term = Term, Commit = commit, Index = round, Context = context });
            }
        }
    }

    /// <summary>Sends the next batch to a follower unless flow control pauses it; true if sent.</summary>
    private bool SendAppend(long to, Progress progress, bool sendIfEmpty)
    {
        if (progress.IsPaused)
        {
            return false;
        }

        var prevIndex = progress.Next - 1;
        if (!_log.TryTerm(prevIndex, out var prevTerm) || _log.IsCompacted(progress.Next))
        {
            // The follower needs entries compacted behind a snapshot.
            return SendSnapshot(to, progress);
        }

        var entries = _log.Entries(progress.Next, _config.MaxEntriesPerMessage, _config.MaxBytesPerMessage);
        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        Send(new Message
        {
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = _log.Committed,
        });
        progress.OnSent(entries.Count > 0 ? entries[^1].Index : prevIndex, entries.Count);
        return true;
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            // Everything up to our commit index is known to match the leader's log.
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.Committed });
            return;
        }

        var lastNew = _log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries);
        if (lastNew >= 0)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = lastNew });
            return;
        }

        // §5.3: "If a follower's log does not contain an entry at prevLogIndex whose term matches
        // prevLogTerm, it rejects." Fast backtracking: hint the last index at or below
        // prevLogIndex whose term is at most prevLogTerm, with that term, so the leader can skip
        // a whole conflicting term per round trip.
        var (hintIndex, hintTerm) = _log.FindConflictByTerm(Math.Min(m.Index, _log.LastIndex), m.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse,
            From = Id,
            To = m.From,
            Term = Term,
            Index = m.Index,
            Reject = true,
            RejectHint = hintIndex,
            LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        _log.CommitTo(m.Commit);
        Send(new Message { Type = MessageType.HeartbeatResponse, From = Id, To = m.From, Term = Term, Index = m.Index, Context = m.Context });
    }

    private void HandleAppendResponse(Message m, Progress progress)
    {
        if (m.Reject)
        {
            // The leader looks in its own log for the last index at or below the hint whose term
            // is at most the follower's hint term: both logs may match there.
            var probeFrom = m.RejectHint;
            if (m.LogTerm > 0)
            {
                probeFrom = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (progress.MaybeDecreaseTo(m.Index, probeFrom))
            {
                if (progress.State == ProgressState.Replicate)
                {
                    progress.BecomeProbe();
                }

                SendAppend(m.From, progress, sendIfEmpty: true);
            }

            return;
        }

        var wasPaused = progress.IsPaused;
        if (progress.MaybeUpdate(m.Index) || (progress.Match == m.Index && progress.State == ProgressState.Probe))
        {
            if (progress.State == ProgressState.Snapshot && progress.Match < progress.PendingSnapshot!.Metadata.Index)
            {
                // An answer to an Append sent before the snapshot; keep sending the snapshot.
                return;
            }

            if (progress.State is ProgressState.Probe or ProgressState.Snapshot)
            {
                progress.BecomeReplicate();
            }
            else
            {
                progress.Inflights.FreeLessOrEqual(m.Index);
            }

            if (MaybeCommit())
            {
                BroadcastAppend();
            }
            else if (wasPaused)
            {
                SendAppend(m.From, progress, sendIfEmpty: true);
            }

            while (SendAppend(m.From, progress, sendIfEmpty: false))
            {
            }
        }
    }
}
