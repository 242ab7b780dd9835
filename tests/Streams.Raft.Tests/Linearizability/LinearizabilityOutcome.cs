namespace Streams.Raft.Tests.Linearizability;

/// <summary>What the linearizability checker concluded about a history.</summary>
public enum LinearizabilityOutcome
{
    /// <summary>Some order of the operations, respecting real time, explains every response.</summary>
    Linearizable,

    /// <summary>No such order exists: the history shows a consistency violation.</summary>
    NotLinearizable,

    /// <summary>The search ran out of its step budget before deciding.</summary>
    Inconclusive,
}
