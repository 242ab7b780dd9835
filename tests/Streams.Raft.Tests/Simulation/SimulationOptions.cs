namespace Streams.Raft.Tests.Simulation;

/// <summary>The fault knobs of one run, drawn from the seed (VOPR style: each run its own mix).</summary>
public sealed record SimulationOptions
{
    public required int ClusterSize { get; init; }

    public required bool PreVote { get; init; }

    public required bool CheckQuorum { get; init; }

    public required double DropRate { get; init; }

    public required double DuplicateRate { get; init; }

    public required int MaxDelayTicks { get; init; }

    public required double CrashRate { get; init; }

    public required double CrashBeforePersistRate { get; init; }

    public required double RestartRate { get; init; }

    public required double PartitionRate { get; init; }

    public required double ProposeRate { get; init; }

    public required int MaxEntriesPerMessage { get; init; }

    public required int MaxInflightMessages { get; init; }

    /// <summary>The chance per tick of a linearizable read (ReadIndex) at a random node.</summary>
    public required double ReadRate { get; init; }

    /// <summary>The chance per tick that a leader starts a leadership transfer to a random node.</summary>
    public required double TransferRate { get; init; }

    /// <summary>The chance per tick that a leader proposes a membership change (0 when neither pre-vote nor check-quorum protects against removed nodes).</summary>
    public required double MembershipRate { get; init; }

    /// <summary>Nodes that start outside the group and may be added to it.</summary>
    public required int SpareNodes { get; init; }

    /// <summary>A node snapshots its state machine and compacts its log every this many applied entries (0: never).</summary>
    public required int SnapshotEvery { get; init; }

    public required int SnapshotChunkBytes { get; init; }

    public required int MaxSnapshotChunksInFlight { get; init; }

    public required bool LeaseReads { get; init; }

    /// <summary>Clients that issue puts and gets on the test key-value store.</summary>
    public required int Clients { get; init; }

        public int SafetyTicks { get; init; } = 150;

    /// <summary>The liveness bound: after healing, a proposal must commit everywhere within this many ticks.</summary>
    public int LivenessTicks { get; init; } = 400;

    public bool UnsafeCommitEntriesOfEarlierTerms { get; init; }

    public bool UnsafeReadIndexWithoutHeartbeats { get; init; }

    /// <summary>
    /// Clock drift: the slow nodes (about half, drawn per run) tick at this fraction of the
    /// others' speed. 1: every clock runs at one speed.
    /// </summary>
    public required double SlowClockSpeed { get; init; }

    /// <summary>TEST ONLY: gets are answered from the node's own store at once, with no linearizable read.</summary>
    public bool UnsafeLocalReads { get; init; }

    public static SimulationOptions Draw(Random rng) => new()
    {
        ClusterSize = new[] { 3, 5, 7 }[rng.Next(3)],
        PreVote = rng.Next(2) == 0,
        CheckQuorum = rng.Next(2) == 0,
        DropRate = rng.NextDouble() * 0.3,
        DuplicateRate = rng.NextDouble() * 0.1,
        MaxDelayTicks = rng.Next(0, 4),
        CrashRate = rng.NextDouble() * 0.02,
        CrashBeforePersistRate = rng.NextDouble() * 0.002,
        RestartRate = 0.05 + (rng.NextDouble() * 0.2),
        PartitionRate = rng.NextDouble() * 0.05,
        ProposeRate = 0.1 + (rng.NextDouble() * 0.5),
        MaxEntriesPerMessage = rng.Next(1, 8),
        MaxInflightMessages = rng.Next(1, 6),
        ReadRate = rng.NextDouble() * 0.5,
        TransferRate = rng.NextDouble() * 0.05,
        MembershipRate = rng.NextDouble() * 0.05,
        SpareNodes = rng.Next(0, 3),
        SnapshotEvery = rng.Next(4) == 0 ? 0 : rng.Next(3, 30),
        SnapshotChunkBytes = rng.Next(1, 64),
        MaxSnapshotChunksInFlight = rng.Next(1, 4),
        LeaseReads = rng.Next(2) == 0,
        Clients = rng.Next(1, 6),
        SlowClockSpeed = rng.Next(2) == 0 ? 1 : 0.9,
    };
}
