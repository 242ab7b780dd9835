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
    /// The ids of the voting members. Normally this node is one of them; a node that is not (one
    /// removed from the group, say) never campaigns and ignores <c>TimeoutNow</c>.
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

        if (Voters is null || Voters.Count == 0)
        {
            problems.Add("Voters must not be empty.");
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
