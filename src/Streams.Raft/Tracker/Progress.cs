namespace Streams.Raft.Tracker;

/// <summary>
/// The leader's view of one follower: the highest index known replicated
/// (<see cref="Match"/>), the next index to send (<see cref="Next"/>), the replication state and
/// the flow-control window. Invariant: <c>Match &lt; Next</c>.
/// </summary>
internal sealed class Progress
{
    /// <summary>Creates the progress of a follower in <see cref="ProgressState.Probe"/>.</summary>
    /// <param name="next">The next index to send.</param>
    /// <param name="maxInflight">The size of the in-flight window.</param>
    public Progress(long next, int maxInflight)
    {
        Next = next;
        Inflights = new Inflights(maxInflight);
        State = ProgressState.Probe;
    }

    /// <summary>The highest index known to be in the follower's log and matching the leader's.</summary>
    public long Match { get; private set; }

    /// <summary>The index of the next entry to send.</summary>
    public long Next { get; private set; }

    /// <summary>Probe or Replicate.</summary>
    public ProgressState State { get; private set; }

    /// <summary>In Probe: an Append was sent and no answer has come back since.</summary>
    public bool ProbeSent { get; private set; }

    /// <summary>True when the follower answered since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary>The in-flight window (used in Replicate).</summary>
    public Inflights Inflights { get; }

    /// <summary>True when no Append may be sent to the follower now.</summary>
    public bool IsPaused => State == ProgressState.Probe ? ProbeSent : Inflights.IsFull;

    /// <summary>Switches to Probe from the entry after <see cref="Match"/>.</summary>
    public void BecomeProbe()
    {
        State = ProgressState.Probe;
        Next = Match + 1;
        ProbeSent = false;
        Inflights.Reset();
    }

    /// <summary>Switches to Replicate from the entry after <see cref="Match"/>.</summary>
    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        Next = Match + 1;
        ProbeSent = false;
        Inflights.Reset();
    }

    /// <summary>Records an acknowledgement of <paramref name="index"/>; true if Match grew.</summary>
    /// <param name="index">An index the follower holds, matching the leader.</param>
    public bool MaybeUpdate(long index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>Records that an Append ending at <paramref name="lastIndex"/> was sent.</summary>
    /// <param name="lastIndex">The last index sent, or the probe's prevLogIndex when empty.</param>
    /// <param name="entryCount">How many entries the Append carried.</param>
    public void OnSent(long lastIndex, int entryCount)
    {
        if (State == ProgressState.Replicate)
        {
            if (entryCount > 0)
            {
                Next = lastIndex + 1;
                Inflights.Add(lastIndex);
            }
        }
        else
        {
            ProbeSent = true;
        }
    }

    /// <summary>
    /// Handles a rejection of the Append whose prevLogIndex was <paramref name="rejected"/>;
    /// <paramref name="probeFrom"/> is where the follower's hint says to probe next. Returns false
    /// for a stale rejection (one that answers an Append older than the current state).
    /// </summary>
    /// <param name="rejected">The rejected prevLogIndex.</param>
    /// <param name="probeFrom">The index the hint points at; Next becomes at most one past it.</param>
    public bool MaybeDecreaseTo(long rejected, long probeFrom)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, probeFrom + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    /// <summary>A heartbeat answer: unpause a probe and free one in-flight slot.</summary>
    public void OnHeartbeatResponse()
    {
        ProbeSent = false;
        if (State == ProgressState.Replicate && Inflights.IsFull)
        {
            Inflights.FreeFirst();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{State} match={Match} next={Next} inflight={Inflights.Count}";
}
