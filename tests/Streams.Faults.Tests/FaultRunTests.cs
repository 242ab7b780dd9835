using System.Globalization;
using Xunit.Abstractions;

namespace Streams.Faults.Tests;

/// <summary>
/// The fault run itself: real node processes in network namespaces, idempotent producers and a
/// consumer group, a seeded nemesis, and the checker. By default 3 hosts and 90 s of faults; with
/// STREAMS_LONG_TESTS=1 (scripts/test.sh --long) 5 hosts and 30 minutes. STREAMS_FAULTS_SEED replays
/// a run's faults; STREAMS_FAULTS_DURATION (such as 5m) sets the length. Needs root and iproute2:
/// without them it fails and says so.
/// </summary>
public sealed class FaultRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_cluster_under_random_faults_loses_no_acknowledged_record_and_serves_writes_again_after_each_heal()
    {
        RequireRootAndIproute2();
        var longRun = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1";
        var seed = int.TryParse(Environment.GetEnvironmentVariable("STREAMS_FAULTS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        var length = Environment.GetEnvironmentVariable("STREAMS_FAULTS_DURATION") is { Length: > 0 } text && Load.DurationText.TryParse(text, out var configured)
            ? configured
            : longRun ? TimeSpan.FromMinutes(30) : TimeSpan.FromSeconds(90);
        var options = new FaultRunOptions
        {
            Hosts = longRun ? 5 : 3,
            Shards = longRun ? 6 : 3,
            Consumers = longRun ? 3 : 2,
            Length = length,
            Seed = seed,
            Producing = new Workload.ProducerWorkloadOptions { Producers = longRun ? 5 : 3 },
        };
        output.WriteLine($"seed {seed} (replay with STREAMS_FAULTS_SEED={seed})");
        var result = await FaultRun.RunAsync(options, RepoRoot.Find(), output.WriteLine, CancellationToken.None);
        var summary = FaultRunSummary.Format(result, options);
        output.WriteLine(summary);

        Assert.True(result.Passed, summary);

        // A run that injected little or wrote little proved little.
        var minimumFaults = (int)(length.TotalSeconds / 30);
        Assert.True(result.FaultsApplied.Values.Sum() >= minimumFaults, $"only {result.FaultsApplied.Values.Sum()} faults were injected (wanted {minimumFaults}):\n{summary}");
        Assert.True(result.Report.Acked >= length.TotalSeconds * 50, $"only {result.Report.Acked} records were acknowledged:\n{summary}");
        Assert.True(result.Report.Recoveries.Count >= minimumFaults, $"only {result.Report.Recoveries.Count} heals were followed by writes:\n{summary}");
        Assert.Contains(result.Report.Recoveries, r => r.Seconds is not null);
    }

    private static void RequireRootAndIproute2()
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("SUDO_USER") is not null, "the fault run makes network namespaces (deploy/netns/hosts.sh) and needs root: run the tests as root.");
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "ip")));
        Assert.True(found, "the fault run needs 'ip' from iproute2: apt-get install iproute2.");
    }
}
