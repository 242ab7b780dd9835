namespace Streams.Raft.Core;

/// <summary>The role a node plays in its current term.</summary>
public enum RaftRole
{
    /// <summary>Passive: answers leaders and candidates.</summary>
    Follower = 1,

    /// <summary>Asking for pre-votes, without having incremented its term.</summary>
    PreCandidate = 2,

    /// <summary>Asking for votes in a term it started.</summary>
    Candidate = 3,

    /// <summary>Accepts proposals and replicates the log.</summary>
    Leader = 4,
}
