using System.Diagnostics;
using Streams.Raft.Runtime;

namespace Streams.Load.Raft;

/// <summary>What one measured run of a cluster produced.</summary>
/// <param name="CommitsPerSecond">Proposals committed and applied at the leader per second.</param>
/// <param name="P50Micros">Median commit latency (ProposeAsync called to completed), µs.</param>
/// <param name="P99Micros">99th percentile commit latency, µs.</param>
/// <param name="MaxMicros">The slowest commit, µs.</param>
/// <param name="Commits">Proposals completed.</param>
/// <param name="Errors">Proposals that failed (a leadership change; the run is then suspect).</param>
/// <param name="CpuPercent">CPU time of the whole process over the run, as a share of all cores.</param>
/// <param name="AllocatedBytesPerCommit">Bytes allocated by the whole process per commit.</param>
/// <param name="Leader">What the leader's storage did.</param>
/// <param name="Followers">What the two followers' storages did, summed.</param>
/// <param name="Seconds">The measured time.</param>
internal sealed record ClusterRun(
    double CommitsPerSecond, double P50Micros, double P99Micros, double MaxMicros, long Commits, long Errors,
    double CpuPercent, double AllocatedBytesPerCommit, StorageCounts Leader, StorageCounts Followers, double Seconds)
{
    /// <summary>Leader saves per second: with fsync on, its fsyncs per second.</summary>
    public double LeaderSavesPerSecond => Leader.Saves / Seconds;

    /// <summary>Entries per leader save that carried entries: the group-commit factor.</summary>
    public double EntriesPerLeaderSave => Leader.EntrySaves == 0 ? 0 : (double)Leader.Entries / Leader.EntrySaves;

    /// <summary>Of the leader's saves, the share that held only a hard state (a new commit index).</summary>
    public double LeaderHardStateOnlyShare => Leader.Saves == 0 ? 0 : (double)Leader.HardStateOnlySaves / Leader.Saves;

    /// <summary>Saves per second of one follower (the mean of the two).</summary>
    public double FollowerSavesPerSecond => Followers.Saves / 2.0 / Seconds;

    /// <summary>Share of the run the leader's loop spent inside SaveAsync.</summary>
    public double LeaderSaveBusy => Leader.SaveTicks / (Seconds * Stopwatch.Frequency);

    /// <summary>Share of the run a follower's loop spent inside SaveAsync (the mean of the two).</summary>
    public double FollowerSaveBusy => Followers.SaveTicks / 2.0 / (Seconds * Stopwatch.Frequency);

    /// <summary>Snapshots taken (log compactions) on all three nodes during the run.</summary>
    public long Compactions => Leader.Compactions + Followers.Compactions;
}

/// <summary>One closed-loop proposer's reused state: its payload and its latency samples.</summary>
internal sealed class Proposer(int entryBytes)
{
    /// <summary>
    /// Proposed again and again: ProposeAsync does not copy it, but it is never changed, and an
    /// in-memory follower keeping the same array holds the same bytes.
    /// </summary>
    public byte[] Payload { get; } = CreatePayload(entryBytes);

    /// <summary>
    /// Small to start with, as thousands of proposers each hold one; it grows by doubling (in the
    /// warm-up, mostly) and keeps its size from run to run.
    /// </summary>
    public LatencyRecorder Recorder { get; } = new(initialCapacity: 1024);

    private static byte[] CreatePayload(int entryBytes)
    {
        var payload = new byte[entryBytes];
        Random.Shared.NextBytes(payload);
        return payload;
    }
}

/// <summary>Closed-loop proposers at a cluster's leader: each proposes its next entry as soon as its previous one is applied.</summary>
internal static class ClusterLoad
{
    /// <summary>How much longer than its duration a run may take before it is declared stuck.</summary>
    private static readonly TimeSpan _stuckAfter = TimeSpan.FromSeconds(30);

    public static async Task<ClusterRun> RunAsync(BenchCluster cluster, BenchNode leader, Proposer[] proposers, int concurrency, TimeSpan duration, LatencyMerger merger, ErrorLog errors, CancellationToken cancellationToken)
    {
        var recorders = new LatencyRecorder[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            recorders[i] = proposers[i].Recorder;
            recorders[i].Reset();
        }

        var leaderBefore = leader.Storage.Counts;
        var followersBefore = FollowerCounts(cluster, leader);
        var errorsBefore = errors.Count;
        var resources = ResourceMark.Now();
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var proposer = proposers[i];
            workers[i] = Task.Run(() => ProposeLoopAsync(leader.Group, proposer, stopAt, errors, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).WaitAsync(duration + _stuckAfter, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var used = ResourceMark.Now();
        var leaderCounts = leader.Storage.Counts - leaderBefore;
        var followerCounts = FollowerCounts(cluster, leader) - followersBefore;
        long commits = 0;
        foreach (var recorder in recorders)
        {
            commits += recorder.Count;
        }

        var (p50, p99, max) = merger.PercentilesAndMax(recorders);
        var (_, allocated) = used.PerOp(resources, commits);
        var seconds = elapsed.TotalSeconds;
        var cpuPercent = (used.Cpu - resources.Cpu).TotalSeconds / seconds / Environment.ProcessorCount * 100;
        return new ClusterRun(commits / seconds, p50, p99, max, commits, errors.Count - errorsBefore, cpuPercent, allocated, leaderCounts, followerCounts, seconds);
    }

    private static StorageCounts FollowerCounts(BenchCluster cluster, BenchNode leader)
    {
        var sum = default(StorageCounts);
        foreach (var node in cluster.Nodes)
        {
            if (node.Id != leader.Id)
            {
                var counts = node.Storage.Counts;
                sum = new StorageCounts(
                    sum.Saves + counts.Saves,
                    sum.EntrySaves + counts.EntrySaves,
                    sum.Entries + counts.Entries,
                    sum.HardStateOnlySaves + counts.HardStateOnlySaves,
                    sum.SaveTicks + counts.SaveTicks,
                    sum.Compactions + counts.Compactions);
            }
        }

        return sum;
    }

    private static async Task ProposeLoopAsync(RaftGroup group, Proposer proposer, long stopAt, ErrorLog errors, CancellationToken cancellationToken)
    {
        var payload = proposer.Payload;
        var recorder = proposer.Recorder;
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            try
            {
                // No token: a cancellable one would register a callback per proposal, which is
                // not ProposeAsync's cost. The loop checks the token between proposals, and a
                // run that hangs is ended by the watchdog in RunAsync.
                await group.ProposeAsync(payload, CancellationToken.None).ConfigureAwait(false);
                recorder.Add(Stopwatch.GetTimestamp() - started);
            }
            catch (Exception ex) when (ex is NotLeaderException or ProposalDroppedException)
            {
                errors.Record(ex);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false); // No error storm while a new leader is elected.
            }
        }
    }
}
