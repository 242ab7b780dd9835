namespace Streams.Raft.Runtime;

/// <summary>What a <see cref="GroupCommand"/> asks of the group's loop.</summary>
internal enum GroupCommandKind
{
    /// <summary>Step a message received from a peer.</summary>
    Message = 1,

    /// <summary>Advance logical time by the ticks counted since the last one.</summary>
    Tick = 2,

    /// <summary>Propose an entry.</summary>
    Propose = 3,

    /// <summary>Propose a membership change.</summary>
    ConfChange = 4,

    /// <summary>Start a linearizable read.</summary>
    Read = 5,

    /// <summary>Transfer leadership.</summary>
    Transfer = 6,

    /// <summary>Report the membership.</summary>
    QueryConfState = 7,
}
