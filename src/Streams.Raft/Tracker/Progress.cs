using Streams.Raft.Storage;

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

    /// <summary>
    /// The leader's tick at which it sent the latest heartbeat round this follower acknowledged:
    /// the follower refuses votes for an election timeout from a moment after it.
    /// </summary>
    public long LeaseTick { get; set; } = long.MinValue / 2;

        /// <summary>The in-flight window (used in Replicate).</summary>
    public Inflights Inflights { get; }

    /// <summary>True when no Append may be sent to the follower now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.IsFull,
        _ => true,
    };

    /// <summary>In Snapshot: the snapshot being sent.</summary>
    public Snapshot? PendingSnapshot { get; private set; }

    /// <summary>In Snapshot: the end of the bytes sent so far.</summary>
    public long SnapshotSent { get; private set; }

    /// <summary>In Snapshot: how many bytes the follower holds in order.</summary>
    public long SnapshotAcked { get; private set; }

    /// <summary>In Snapshot: the piece that ends the snapshot was sent.</summary>
    public bool SnapshotLastSent { get; private set; }

    /// <summary>In Snapshot: ticks since the follower last acknowledged a piece.</summary>
    public int SnapshotStalledTicks { get; set; }

    /// <summary>Switches to Snapshot: Appends pause while <paramref name="snapshot"/> is sent.</summary>
    /// <param name="snapshot">The snapshot to send.</param>
    public void BecomeSnapshot(Snapshot snapshot)
    {
        State = ProgressState.Snapshot;
        PendingSnapshot = snapshot;
        SnapshotSent = 0;
        SnapshotAcked = 0;
        SnapshotLastSent = false;
        SnapshotStalledTicks = 0;
        ProbeSent = false;
        Inflights.Reset();
    }

    /// <summary>Records that a piece ending at <paramref name="end"/> was sent.</summary>
    /// <param name="end">The offset just past the piece.</param>
    public void OnSnapshotChunkSent(long end)
    {
        SnapshotSent = end;
        SnapshotLastSent = end == PendingSnapshot!.Data.Length;
    }

    /// <summary>
    /// The follower holds <paramref name="received"/> bytes in order. A rejection means pieces
    /// were lost or reordered: send again from there.
    /// </summary>
    /// <param name="received">The bytes the follower holds in order.</param>
    /// <param name="rejected">The follower refused a piece that did not follow on.</param>
    public void OnSnapshotAcknowledged(long received, bool rejected)
    {
        if (rejected || received > SnapshotSent)
        {
            RewindSnapshotTo(received);
        }
        else if (received > SnapshotAcked)
        {
            SnapshotAcked = received;
            SnapshotStalledTicks = 0;
        }
    }

    /// <summary>Sends the snapshot again from <paramref name="offset"/> (lost pieces, or a follower that restarted).</summary>
    /// <param name="offset">Where to send from.</param>
    public void RewindSnapshotTo(long offset)
    {
        SnapshotAcked = offset;
        SnapshotSent = offset;
        SnapshotLastSent = false;
        SnapshotStalledTicks = 0;
    }

    /// <summary>Switches to Probe from the entry after <see cref="Match"/>.</summary>
    public void BecomeProbe()
    {
        PendingSnapshot = null;
        State = ProgressState.Probe;
        Next = Match + 1;
        ProbeSent = false;
        Inflights.Reset();
    }

    /// <summary>Switches to Replicate from the entry after <see cref="Match"/>.</summary>
    public void BecomeReplicate()
    {
        PendingSnapshot = null;
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
        if (State == ProgressState.Snapshot)
        {
            // Answers Appends sent before the snapshot; the snapshot decides what comes next.
            return false;
        }

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
