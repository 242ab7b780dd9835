namespace Streams.Raft.Messages;

/// <summary>The kinds of <see cref="Message"/> exchanged between nodes.</summary>
public enum MessageType
{
    /// <summary>
    /// RequestVote (§5.2). <c>Term</c> is the candidate's term, <c>Index</c>/<c>LogTerm</c> its
    /// last log index and term.
    /// </summary>
    Vote = 1,

    /// <summary>Answer to <see cref="Vote"/>; <c>Reject</c> is false when the vote is granted.</summary>
    VoteResponse = 2,

    /// <summary>
    /// Pre-vote (Raft thesis §9.6): "would you vote for me in <c>Term</c>?" asked without
    /// incrementing the sender's term, so a node that cannot win does not disrupt the cluster.
    /// </summary>
    PreVote = 3,

    /// <summary>Answer to <see cref="PreVote"/>; a grant carries the term asked about.</summary>
    PreVoteResponse = 4,

    /// <summary>
    /// AppendEntries (§5.3). <c>Index</c>/<c>LogTerm</c> are prevLogIndex/prevLogTerm,
    /// <c>Entries</c> follow it, <c>Commit</c> is the leader's commit index.
    /// </summary>
    Append = 5,

    /// <summary>
    /// Answer to <see cref="Append"/>. Accepted: <c>Index</c> is the follower's last index
    /// matching the leader. Rejected: <c>Index</c> echoes the rejected prevLogIndex and
    /// <c>RejectHint</c>/<c>LogTerm</c> give the fast-backtracking hint (an index at or below the
    /// follower's last index whose term is at most the rejected prevLogTerm, and that term).
    /// </summary>
    AppendResponse = 6,

    /// <summary>
    /// Heartbeat from the leader; <c>Commit</c> is min(follower's match, leader's commit), so a
    /// follower never learns a commit index beyond what it holds of the leader's log. While reads
    /// wait for confirmation (thesis §6.4), <c>Index</c> is the leader's latest read round (0 for
    /// none) and <c>Context</c> the request context of that round's read.
    /// </summary>
    Heartbeat = 7,

    /// <summary>Answer to <see cref="Heartbeat"/>; echoes its <c>Index</c> (read round) and <c>Context</c>.</summary>
    HeartbeatResponse = 8,

    /// <summary>
    /// Leadership transfer (thesis §3.10): the leader tells a follower whose log is up to date to
    /// start an election at once, without pre-vote and with <c>Transfer</c> set on its vote requests.
    /// </summary>
    TimeoutNow = 9,

    /// <summary>A follower forwards a linearizable read (thesis §6.4) to the leader; <c>Context</c> identifies it.</summary>
    ReadIndex = 10,

    /// <summary>
    /// The leader's answer to <see cref="ReadIndex"/> once its leadership is confirmed:
    /// <c>Index</c> is the read index, <c>Context</c> echoes the request's.
    /// </summary>
    ReadIndexResponse = 11,

    /// <summary>
    /// InstallSnapshot (§7), one <see cref="Message.Chunk"/> at a time: the leader sends it to a
    /// follower that needs entries the leader has compacted away. <c>Index</c>/<c>LogTerm</c> are
    /// the snapshot's index and term.
    /// </summary>
    Snapshot = 12,

    /// <summary>
    /// Answer to a <see cref="Snapshot"/> piece: <c>Index</c>/<c>LogTerm</c> name the snapshot and
    /// <c>ChunkOffset</c> is how many of its bytes the follower holds in order. <c>Reject</c> means
    /// the piece did not follow on (lost or reordered) and the leader resends from
    /// <c>ChunkOffset</c>. Once the last piece is in, the follower answers with an accepting
    /// <see cref="AppendResponse"/> at the snapshot's index instead.
    /// </summary>
    SnapshotResponse = 13,
}
