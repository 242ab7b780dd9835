namespace Streams.Raft.Tracker;

/// <summary>How the leader replicates to one follower.</summary>
internal enum ProgressState
{
    /// <summary>
    /// The leader does not know where the follower's log matches its own: it sends one Append at
    /// a time and waits for the answer (or a heartbeat response) before sending the next.
    /// </summary>
    Probe = 1,

    /// <summary>
    /// The follower's log matches up to <c>Match</c>: the leader streams Appends optimistically,
    /// bounded by the in-flight window.
    /// </summary>
    Replicate = 2,

    /// <summary>
    /// The follower needs entries the leader has compacted: the leader sends it a snapshot in
    /// pieces and no Appends until the follower has installed it.
    /// </summary>
    Snapshot = 3,
}
