using Streams.Raft.Core;

namespace Streams.Raft.Runtime;

/// <summary>
/// The settings of one Raft group on one node. Times are in ticks of the host
/// (<see cref="RaftHostOptions.TickInterval"/>).
/// </summary>
public sealed class RaftGroupOptions
{
    /// <summary>The group's id, the same on every member; not 0.</summary>
    public required long GroupId { get; init; }

    /// <summary>
    /// The voters the group starts with, the same list on every founding member; empty for a node
    /// joining an existing group (it learns the membership from the leader). Once the log or a
    /// snapshot holds a membership, that wins.
    /// </summary>
    public required IReadOnlyList<long> Voters { get; init; }

    /// <summary>Ticks without a leader before a follower campaigns (drawn from [T, 2T)).</summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>Ticks between a leader's heartbeats; less than <see cref="ElectionTimeoutTicks"/>.</summary>
    public int HeartbeatTimeoutTicks { get; init; } = 1;

    /// <summary>Pre-vote (thesis §9.6): a node that cannot win does not raise the term.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>Check-quorum: a leader cut off from a majority steps down within an election timeout.</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>How leaders confirm linearizable reads (lease-based needs <see cref="CheckQuorum"/>).</summary>
    public ReadOnlyMode ReadOnly { get; init; } = ReadOnlyMode.ReadIndex;

    /// <summary>See <see cref="RaftConfig.MaxClockDriftTicks"/>: how much shorter than an election timeout a lease is.</summary>
    public int MaxClockDriftTicks { get; init; } = 1;

    /// <summary>The most Appends in flight to one follower.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>The most entries in one Append.</summary>
    public int MaxEntriesPerMessage { get; init; } = 64;

    /// <summary>The most bytes of entries in one Append; keep it well below the transport's batch size.</summary>
    public long MaxBytesPerMessage { get; init; } = 1 << 20;

    /// <summary>The most snapshot bytes in one InstallSnapshot message.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;

    /// <summary>The most snapshot chunks in flight to one follower.</summary>
    public int MaxSnapshotChunksInFlight { get; init; } = 4;

    /// <summary>
    /// The index the state machine has durably applied already (0 for an in-memory state
    /// machine, which replays from the latest snapshot and the log).
    /// </summary>
    public long AppliedIndex { get; init; }

    /// <summary>
    /// Take a state machine snapshot and compact the log once this many entries were applied
    /// since the last snapshot; 0 never snapshots.
    /// </summary>
    public long SnapshotEveryEntries { get; init; } = 10_000;

    /// <summary>Ticks a linearizable read may wait for its read index before it fails with a <see cref="TimeoutException"/>.</summary>
    public int ReadIndexTimeoutTicks { get; init; } = 50;

    /// <summary>The most received messages waiting in the group's inbox; beyond it new ones are dropped (Raft resends).</summary>
    public int MaxQueuedMessages { get; init; } = 16_384;

    /// <summary>
    /// The most inbox items handled before the group persists and sends (one Ready, one fsync):
    /// bounds the latency a flood of proposals can add to one round.
    /// </summary>
    public int MaxCommandsPerRound { get; init; } = 4096;

    /// <summary>Throws an <see cref="ArgumentException"/> naming every invalid setting and what to change.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (GroupId == 0)
        {
            problems.Add("GroupId is 0; give the group a non-zero id.");
        }

        if (Voters is null)
        {
            problems.Add("Voters is null; list the founding voters, or pass an empty list for a node joining an existing group.");
        }

        if (ElectionTimeoutTicks <= HeartbeatTimeoutTicks || HeartbeatTimeoutTicks < 1)
        {
            problems.Add($"HeartbeatTimeoutTicks ({HeartbeatTimeoutTicks}) must be at least 1 and less than ElectionTimeoutTicks ({ElectionTimeoutTicks}).");
        }

        if (AppliedIndex < 0)
        {
            problems.Add($"AppliedIndex is {AppliedIndex}; it cannot be negative.");
        }

        if (SnapshotEveryEntries < 0)
        {
            problems.Add($"SnapshotEveryEntries is {SnapshotEveryEntries}; set it to 0 (never) or a positive number of entries.");
        }

        if (ReadIndexTimeoutTicks < 1)
        {
            problems.Add($"ReadIndexTimeoutTicks is {ReadIndexTimeoutTicks}; set it to at least 1 (default 50).");
        }

        if (MaxQueuedMessages < 1)
        {
            problems.Add($"MaxQueuedMessages is {MaxQueuedMessages}; set it to at least 1.");
        }

        if (MaxCommandsPerRound < 1)
        {
            problems.Add($"MaxCommandsPerRound is {MaxCommandsPerRound}; set it to at least 1.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid options for Raft group {GroupId}: " + string.Join(" ", problems));
        }
    }

    /// <summary>The core's configuration for node <paramref name="nodeId"/>; the core validates the rest.</summary>
    internal RaftConfig ToRaftConfig(long nodeId, long appliedIndex, IRandomSource randomSource) => new()
    {
        Id = nodeId,
        Voters = Voters,
        ElectionTimeoutTicks = ElectionTimeoutTicks,
        HeartbeatTimeoutTicks = HeartbeatTimeoutTicks,
        PreVote = PreVote,
        CheckQuorum = CheckQuorum,
        ReadOnly = ReadOnly,
        MaxClockDriftTicks = MaxClockDriftTicks,
        MaxInflightMessages = MaxInflightMessages,
        MaxEntriesPerMessage = MaxEntriesPerMessage,
        MaxBytesPerMessage = MaxBytesPerMessage,
        SnapshotChunkBytes = SnapshotChunkBytes,
        MaxSnapshotChunksInFlight = MaxSnapshotChunksInFlight,
        AppliedIndex = appliedIndex,
        RandomSource = randomSource,
    };
}
