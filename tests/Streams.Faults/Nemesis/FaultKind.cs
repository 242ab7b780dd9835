namespace Streams.Faults.Nemesis;

/// <summary>The faults the nemesis draws from.</summary>
internal enum FaultKind
{
    /// <summary>The hosts split in two groups that cannot reach each other, both ways.</summary>
    PartitionHalves,

    /// <summary>One host cut off from all others, both ways.</summary>
    IsolateOne,

    /// <summary>One host's packets to another are lost; the other way works.</summary>
    PartitionOneWay,

    /// <summary>A node frozen with SIGSTOP (a long GC pause, a stalled VM), resumed at the heal.</summary>
    Pause,

    /// <summary>A node killed with SIGKILL, restarted on its data at the heal.</summary>
    Crash,

    /// <summary>The node leading a shard's replicas (or the controller) killed, restarted at the heal.</summary>
    CrashLeader,

    /// <summary>A host's packets delayed (with jitter).</summary>
    Delay,

    /// <summary>A share of a host's packets dropped.</summary>
    Loss,

    /// <summary>A share of a host's packets sent ahead of the delayed rest.</summary>
    Reorder,
}
