namespace Streams.Raft.Core;

/// <summary>How a leader confirms it is still the leader before serving a linearizable read.</summary>
public enum ReadOnlyMode
{
    /// <summary>
    /// Thesis §6.4: a heartbeat round acknowledged by a majority confirms each read. Safe whatever
    /// the clocks do; costs a round trip.
    /// </summary>
    ReadIndex = 1,

    /// <summary>
    /// Thesis §6.4.1: a leader that heard from a majority within the last election timeout, less
    /// <see cref="RaftConfig.MaxClockDriftTicks"/>, answers at once, because those followers
    /// refuse votes for that long (check-quorum). Safe only while clocks drift less than the
    /// bound; falls back to a heartbeat round when the lease has lapsed.
    /// </summary>
    LeaseBased = 2,
}
