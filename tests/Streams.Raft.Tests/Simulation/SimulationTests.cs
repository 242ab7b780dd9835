using System.Collections.Concurrent;
using System.Diagnostics;
using Streams.Raft.Core;
using Xunit.Abstractions;

namespace Streams.Raft.Tests.Simulation;

/// <summary>
/// The seeded simulation. By default 2,000 seeds (1..2000). <c>STREAMS_RAFT_SEEDS=N</c> runs
/// seeds 1..N; <c>STREAMS_RAFT_SEED=S</c> runs exactly seed S (and prints its trace).
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    private const int DefaultSeeds = 2000;

    [Fact]
    public void Safety_and_liveness_hold_for_every_seed()
    {
        var seeds = SeedsToRun();
        var failures = new ConcurrentBag<(int Seed, string Error)>();
        long steps = 0;
        long committed = 0;
        long reads = 0;
        long transfers = 0;
        long changes = 0;
        long installs = 0;
        long operations = 0;
        var stopwatch = Stopwatch.StartNew();
        Parallel.ForEach(seeds, seed =>
        {
            var simulator = new Simulator(seed);
            try
            {
                simulator.Run();
            }
            catch (Exception ex) when (ex is SafetyViolationException or RaftInvariantException or InvalidOperationException or ArgumentException)
            {
                failures.Add((seed, $"{ex.GetType().Name}: {ex.Message}"));
            }

            Interlocked.Add(ref steps, simulator.StepsChecked);
            Interlocked.Add(ref committed, simulator.Checker.CommittedIndex);
            Interlocked.Add(ref reads, simulator.ReadsChecked);
            Interlocked.Add(ref transfers, simulator.TransfersStarted);
            Interlocked.Add(ref changes, simulator.MembershipChanges);
            Interlocked.Add(ref installs, simulator.SnapshotsInstalled);
            Interlocked.Add(ref operations, simulator.OperationsChecked);
            if (seeds.Count == 1)
            {
                output.WriteLine(simulator.Options.ToString());
                output.WriteLine(simulator.Trace);
            }
        });

        output.WriteLine($"{seeds.Count} seeds, {steps} checked steps, {committed} committed entries, {reads} reads checked, {transfers} transfers started, {changes} membership changes, {installs} snapshots installed, {operations} client operations checked linearizable, {stopwatch.Elapsed.TotalSeconds:F1}s");
        var sorted = failures.OrderBy(f => f.Seed).ToList();
        Assert.True(
            sorted.Count == 0,
            $"{sorted.Count} seed(s) failed; reproduce with STREAMS_RAFT_SEED=<seed>:\n"
            + string.Join("\n", sorted.Take(20).Select(f => $"seed {f.Seed}: {f.Error}")));
    }

    [Fact]
    public void A_seed_reproduces_exactly()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var first = new Simulator(seed);
            first.Run();
            var second = new Simulator(seed);
            second.Run();
            Assert.Equal(first.Trace, second.Trace);
            Assert.Equal(first.StepsChecked, second.StepsChecked);
        }
    }

    [Fact]
    public void The_simulation_catches_a_leader_that_commits_entries_of_earlier_terms_by_counting()
    {
        // Deliberately break §5.4.2 and run harsh seeds: the checker must report a violation for
        // at least one seed, which proves the harness can fail.
        var caught = CountCaught(3000, o => o with
        {
            UnsafeCommitEntriesOfEarlierTerms = true,
            ClusterSize = 3,
            PreVote = false,
            CheckQuorum = false,
            CrashRate = 0.05,
            RestartRate = 0.3,
            DropRate = 0.3,
            ProposeRate = 0.8,
            SafetyTicks = 300,
        });

        Assert.NotEmpty(caught);
    }

    [Fact]
    public void The_simulation_catches_a_leader_that_serves_reads_without_confirming_its_leadership()
    {
        // Deliberately skip the heartbeat round of ReadIndex, with partitions that isolate
        // leaders and no check-quorum (an isolated leader stays leader): an old leader then
        // answers reads at a commit index a newer leader has passed, and the read check must
        // report it for some seeds.
        var caught = CountCaught(200, o => o with
        {
            UnsafeReadIndexWithoutHeartbeats = true,
            ClusterSize = 3,
            PreVote = false,
            CheckQuorum = false,
            PartitionRate = 0.1,
            ProposeRate = 0.6,
            ReadRate = 0.5,
            SafetyTicks = 300,
        });

        Assert.Contains(caught, c => c.Error.StartsWith("linearizable read", StringComparison.Ordinal));
    }

    [Fact]
    public void The_simulation_catches_lease_reads_when_clocks_drift_beyond_the_bound()
    {
        // Slow clocks run at a tenth of the speed, far beyond the drift bound of two ticks in ten: a slow
        // leader's lease (and its check-quorum step-down) outlasts its followers' promise, and it
        // answers reads from its lease after a newer leader has committed writes. Long partitions
        // (rarely redrawn) give the others time to elect that newer leader.
        var caught = CountCaught(400, o => o with
        {
            SlowClockSpeed = 0.1,

            // Fast clocks win elections; transfers hand leadership to slow ones too.
            TransferRate = 0.2,
            LeaseReads = true,
            CheckQuorum = true,
            ClusterSize = 3,
            PartitionRate = 0.03,
            ProposeRate = 0.3,
            ReadRate = 0.9,
            Clients = 5,
            SafetyTicks = 600,
        });

        Assert.NotEmpty(caught);
    }

    [Fact]
    public void The_linearizability_checker_catches_reads_served_from_a_local_store()
    {
        // Answer gets from the node's own store, stale on a follower or an isolated leader: the
        // history of client operations must fail the linearizability check for some seeds.
        var caught = CountCaught(200, o => o with
        {
            UnsafeLocalReads = true,
            ClusterSize = 3,
            PartitionRate = 0.1,
            ProposeRate = 0.5,
            ReadRate = 0.9,
            SafetyTicks = 300,
        });

        Assert.Contains(caught, c => c.Error.StartsWith("linearizability", StringComparison.Ordinal));
    }

    private List<(int Seed, string Error)> CountCaught(int seeds, Func<SimulationOptions, SimulationOptions> adjust)
    {
        var caught = new ConcurrentBag<(int Seed, string Error)>();
        Parallel.For(1, seeds + 1, seed =>
        {
            try
            {
                new Simulator(seed, adjust).Run();
            }
            catch (Exception ex) when (ex is SafetyViolationException or RaftInvariantException)
            {
                caught.Add((seed, ex.Message));
            }
        });

        var sorted = caught.OrderBy(c => c.Seed).ToList();
        output.WriteLine($"caught by {sorted.Count} of {seeds} seeds");
        foreach (var (seed, error) in sorted.Take(5))
        {
            output.WriteLine($"seed {seed}: {error}");
        }

        return sorted;
    }

    private static List<int> SeedsToRun()
    {
        var one = Environment.GetEnvironmentVariable("STREAMS_RAFT_SEED");
        if (!string.IsNullOrEmpty(one))
        {
            return [int.Parse(one, System.Globalization.CultureInfo.InvariantCulture)];
        }

        var count = Environment.GetEnvironmentVariable("STREAMS_RAFT_SEEDS");
        var n = string.IsNullOrEmpty(count) ? DefaultSeeds : int.Parse(count, System.Globalization.CultureInfo.InvariantCulture);
        return Enumerable.Range(1, n).ToList();
    }
}
