namespace Streams.Raft.Core;

/// <summary>
/// The configuration of one node of one Raft group. Times are in ticks: the host decides how
/// long a tick is.
/// </summary>
public sealed class RaftConfig
{
    /// <summary>This node's id; not 0 (0 means "none").</summary>
    public required long Id { get; init; }

    /// <summary>
    /// The voting members the group starts with (its bootstrap configuration), used until the
    /// log or a snapshot holds a configuration entry. Every founding member is given the same
    /// list. A node joining an existing group is given an empty list: it learns its membership
    /// from the leader. A node that is not a voter never campaigns and ignores <c>TimeoutNow</c>.
    /// </summary>
    public required IReadOnlyList<long> Voters { get; init; }

    /// <summary>
    /// The base election timeout T: a follower that hears from no leader for a duration drawn
    /// uniformly from [T, 2T) starts an election. Also the check-quorum period.
    /// </summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>How often a leader sends heartbeats; less than <see cref="ElectionTimeoutTicks"/>.</summary>
    public int HeartbeatTimeoutTicks { get; init; } = 1;

    /// <summary>The most Appends in flight to one follower in Replicate state (flow control).</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>The most entries in one Append.</summary>
    public int MaxEntriesPerMessage { get; init; } = 64;

    /// <summary>The most bytes of entries in one Append (a single larger entry is still sent alone).</summary>
    public long MaxBytesPerMessage { get; init; } = 1 << 20;

    /// <summary>
    /// Run a pre-vote round before incrementing the term (thesis §9.6): a node whose log is
    /// behind a majority's cannot raise its term and disrupt the cluster. A node whose log is
    /// up to date can still win pre-votes; to stop it deposing a healthy leader, combine with
    /// <see cref="CheckQuorum"/> (its leader lease makes followers ignore vote requests).
    /// </summary>
    public bool PreVote { get; init; }

    /// <summary>
    /// A leader that has not heard from a majority within an election timeout steps down, and a
    /// follower that heard from a leader within an election timeout ignores vote requests.
    /// </summary>
    public bool CheckQuorum { get; init; }

    /// <summary>
    /// How linearizable reads are confirmed: by a heartbeat round (<see cref="ReadOnlyMode.ReadIndex"/>,
    /// the default) or by the leader's lease (<see cref="ReadOnlyMode.LeaseBased"/>, which needs
    /// <see cref="CheckQuorum"/>).
    /// </summary>
    public ReadOnlyMode ReadOnly { get; init; } = ReadOnlyMode.ReadIndex;

    /// <summary>
    /// For lease reads: how many ticks the clocks of two nodes may drift apart within an election
    /// timeout. The lease is shortened by this much; at least 1 and less than
    /// <see cref="ElectionTimeoutTicks"/>.
    /// </summary>
    public int MaxClockDriftTicks { get; init; } = 1;

    /// <summary>The most bytes of a snapshot sent in one message.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;

    /// <summary>The most snapshot pieces in flight to one follower.</summary>
    public int MaxSnapshotChunksInFlight { get; init; } = 4;

    /// <summary>The random source for election timeouts.</summary>
    public required IRandomSource RandomSource { get; init; }

    /// <summary>The index the host's state machine has already applied (0 to re-apply everything).</summary>
    public long AppliedIndex { get; init; }

    /// <summary>
    /// TEST ONLY: deliberately breaks §5.4.2 by letting a leader commit entries of earlier terms
    /// by counting replicas. Exists so the tests can prove their checks catch a broken rule.
    /// </summary>
    internal bool UnsafeCommitEntriesOfEarlierTerms { get; init; }

    /// <summary>
    /// TEST ONLY: deliberately breaks ReadIndex (thesis §6.4) by serving reads at once, without
    /// the heartbeat round that confirms leadership. Exists so the tests can prove their checks
    /// catch a stale read.
    /// </summary>
    internal bool UnsafeReadIndexWithoutHeartbeats { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming every invalid setting.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Id == 0)
        {
            problems.Add("Id must not be 0.");
        }

        if (Voters is null)
        {
            problems.Add("Voters must be set (empty for a node joining an existing group).");
        }
        else
        {
            if (Voters.Contains(0))
            {
                problems.Add("Voters must not contain 0.");
            }

            if (Voters.Distinct().Count() != Voters.Count)
            {
                problems.Add("Voters must be distinct.");
            }
        }

        if (HeartbeatTimeoutTicks < 1)
        {
            problems.Add("HeartbeatTimeoutTicks must be at least 1.");
        }

        if (ElectionTimeoutTicks <= HeartbeatTimeoutTicks)
        {
            problems.Add("ElectionTimeoutTicks must be greater than HeartbeatTimeoutTicks.");
        }

        if (MaxInflightMessages < 1)
        {
            problems.Add("MaxInflightMessages must be at least 1.");
        }

        if (MaxEntriesPerMessage < 1)
        {
            problems.Add("MaxEntriesPerMessage must be at least 1.");
        }

        if (MaxBytesPerMessage < 1)
        {
            problems.Add("MaxBytesPerMessage must be at least 1.");
        }

        if (ReadOnly == ReadOnlyMode.LeaseBased && !CheckQuorum)
        {
            problems.Add("ReadOnly = LeaseBased needs CheckQuorum: without it followers do not honour the leader's lease.");
        }

        if (MaxClockDriftTicks < 1 || MaxClockDriftTicks >= ElectionTimeoutTicks)
        {
            problems.Add("MaxClockDriftTicks must be at least 1 and less than ElectionTimeoutTicks.");
        }

        if (SnapshotChunkBytes < 1)
        {
            problems.Add("SnapshotChunkBytes must be at least 1.");
        }

        if (MaxSnapshotChunksInFlight < 1)
        {
            problems.Add("MaxSnapshotChunksInFlight must be at least 1.");
        }

        if (RandomSource is null)
        {
            problems.Add("RandomSource must be set.");
        }

        if (AppliedIndex < 0)
        {
            problems.Add("AppliedIndex must not be negative.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft configuration: " + string.Join(" ", problems));
        }
    }
}
