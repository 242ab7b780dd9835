using System.Diagnostics;
using System.Globalization;
using Streams.Rpc;
using Streams.V1;
using Xunit.Abstractions;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests;

/// <summary>
/// Three node processes, a stream of two shards replicated three times; idempotent producers write
/// through random nodes while nodes are SIGKILLed and restarted on their data directories: the
/// leader of a shard, then a follower of a shard, then a node at random (seeded), and again. After
/// each restart the writes must go on and the restarted node must catch up (serve the latest
/// acknowledged record of every shard from its own replica). At the end every acknowledged record
/// must be, on every node, in its shard exactly once at the sequence number it was acknowledged
/// with, in order, and the three nodes must return the same records.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ShardKillTests(ITestOutputHelper output)
{
    private const string StreamName = "kill-test";
    private const int ShardCount = 2;
    private const int Writers = 3;

    // Acknowledged records wanted on every shard before the first kill and after each restart,
    // before going on: the cluster recovered.
    private const int AcksPerShardBetweenKills = 40;

    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(60);

    // A restarted node replays or receives what it missed in about a second; this is generous.
    private static readonly TimeSpan _catchUpTimeout = TimeSpan.FromSeconds(30);

    private enum Victim
    {
        ShardLeader,
        ShardFollower,
        RandomNode,
    }

    [Fact]
    public async Task Every_acknowledged_record_survives_nodes_being_SIGKILLed_under_idempotent_writes()
    {
        var kills = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 15 : 3;
        var seed = TestSeed.FromEnvironment("STREAMS_CLUSTER_KILL_SEED");
        output.WriteLine($"seed {seed} (rerun with STREAMS_CLUSTER_KILL_SEED={seed}), {kills} kills");
        var random = new Random(seed);
        var timeline = new TestTimeline(output);
        var clock = timeline.Clock;
        var ledger = new WriteLedger(clock);
        var killed = 0;
        var passed = false;
        TestCluster? cluster = null;
        Task[] writers = [];
        using var stopWriters = new CancellationTokenSource();

        void Log(string line) => timeline.Log(line);

        try
        {
            cluster = await TestCluster.StartAsync(3, "kill");
            Log("3 nodes listening");
            await StreamOps.CreateStreamAsync(cluster, cluster.Nodes[0], StreamName, ShardCount, replicationFactor: 3);
            var shards = (await StreamOps.ListShardsAsync(cluster.Nodes[0], StreamName)).OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            Assert.Equal(ShardCount, shards.Count);
            Assert.All(shards, s => Assert.Equal(3, s.Replicas.Count));
            Log($"stream ACTIVE: {string.Join("; ", shards.Select(s => $"{s.ShardId} [{s.HashKeyRange.StartingHashKey}..{s.HashKeyRange.EndingHashKey}] leader {s.Leader}"))}");

            var writerCluster = cluster;
            writers = [.. Enumerable.Range(1, Writers).Select(w =>
            {
                var writerSeed = random.Next();
                return Task.Run(() => IdempotentWriter.WriteUntilStoppedAsync(StreamName, random => writerCluster.Nodes[random.Next(writerCluster.Nodes.Count)], shards, w, writerSeed, ledger, stopWriters.Token));
            })];

            await WaitForProgressAsync(cluster, shards, ledger, "before the first kill");
            for (var kill = 1; kill <= kills; kill++)
            {
                var kind = (Victim)((kill - 1) % 3);

                // A random extra moment, so that kills land anywhere: mid-append, mid-fsync, mid-election.
                await Task.Delay(random.Next(0, 300));
                var (victim, why) = await ChooseVictimAsync(cluster, shards, kind, random);
                await victim.KillAsync();
                killed++;
                Log($"kill {kill}: SIGKILL {victim.Id} ({why}); acks so far {ledger.Acks}");

                await Task.Delay(random.Next(800, 1200));
                await victim.StartAsync();
                Log($"kill {kill}: {victim.Id} restarted and listening");
                await WaitForProgressAsync(cluster, shards, ledger, $"after restarting {victim.Id} (kill {kill})");
                Log($"kill {kill}: writes go on ({ledger.Acks} acks)");
                await WaitForCatchUpAsync(victim, shards, ledger, $"kill {kill}");
                Log($"kill {kill}: {victim.Id} serves the latest acknowledged record of every shard");
            }

            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);
            Log($"writers stopped: {ledger.Acks} records acknowledged in {ledger.BatchesAcked} batches, {ledger.Attempts} attempts; failed attempts: {ledger.FailureSummary()}");

            var reads = await ReadEverywhereAsync(cluster, shards);
            Log($"read back: {string.Join("; ", reads.Select(r => $"{r.Key.Id}: {string.Join(", ", r.Value.Select(s => $"{s.ShardId} {s.Records.Count}"))}"))}");
            var problems = new List<string>(ledger.Problems);
            problems.AddRange(Verify(cluster, shards, reads, ledger));
            var summary = $"{ledger.Acks} acknowledged records ({ledger.BatchesAcked} batches, {ledger.SentPayloads} records sent), {killed} kills, {clock.Elapsed.TotalSeconds:F1} s; "
                + $"per shard {string.Join(", ", shards.Select(s => $"{s.ShardId} {ledger.AcksOf(s.ShardId)} acked / {reads[cluster.Nodes[0]].Single(r => r.ShardId == s.ShardId).Records.Count} held"))}; "
                + $"failed attempts: {ledger.FailureSummary()}";
            Log(summary);
            if (problems.Count > 0)
            {
                Assert.Fail($"{problems.Count} problem(s); the first ones:\n{string.Join('\n', problems.Take(30))}\n{summary}");
            }

            Assert.True(ledger.Acks >= (kills + 1) * AcksPerShardBetweenKills * ShardCount, $"only {ledger.Acks} acknowledged records: the test proved little.");
            passed = true;
        }
        catch (Exception ex)
        {
            throw await ClusterRun.FailureAsync(ex, $"seed {seed} (rerun with STREAMS_CLUSTER_KILL_SEED={seed}); after {killed} kill(s), {clock.Elapsed.TotalSeconds:F1} s, " + $"{ledger.Acks} acks; failed attempts: {ledger.FailureSummary()}.", timeline.Lines, cluster);
        }
        finally
        {
            await ClusterRun.CleanUpAsync(cluster, stopWriters, writers, passed);
        }
    }

    private static async Task<(NodeProcess Victim, string Why)> ChooseVictimAsync(TestCluster cluster, List<Shard> shards, Victim kind, Random random)
    {
        var shard = shards[random.Next(shards.Count)];
        var groupName = $"{StreamName}/{shard.ShardId}";
        switch (kind)
        {
            case Victim.ShardLeader:
                {
                    var group = await cluster.WaitForGroupLeaderAsync(groupName, _progressTimeout);
                    return (cluster.Node(group.Leader), $"leader of {shard.ShardId}, term {group.Term}");
                }

            case Victim.ShardFollower:
                {
                    var group = await cluster.WaitForGroupLeaderAsync(groupName, _progressTimeout);
                    var followers = group.Voters.Where(v => v != group.Leader).Order(StringComparer.Ordinal).ToList();
                    Assert.True(followers.Count > 0, $"{groupName} has no followers: voters {string.Join(", ", group.Voters)}");
                    var follower = followers[random.Next(followers.Count)];
                    return (cluster.Node(follower), $"follower of {shard.ShardId}, whose leader is {group.Leader} in term {group.Term}");
                }

            default:
                {
                    var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
                    var leads = new List<string>();
                    foreach (var s in shards)
                    {
                        if (await cluster.FindGroupAsync($"{StreamName}/{s.ShardId}") is { } g && g.Leader == node.Id)
                        {
                            leads.Add(s.ShardId);
                        }
                    }

                    return (node, $"at random; it leads {(leads.Count == 0 ? "no shard" : string.Join(" and ", leads))}");
                }
        }
    }

    /// <summary>Waits until every shard has taken <see cref="AcksPerShardBetweenKills"/> more acknowledged records.</summary>
    private static async Task WaitForProgressAsync(TestCluster cluster, List<Shard> shards, WriteLedger ledger, string when)
    {
        var start = shards.ToDictionary(s => s.ShardId, s => ledger.AcksOf(s.ShardId));
        var deadline = Stopwatch.StartNew();
        while (shards.Any(s => ledger.AcksOf(s.ShardId) < start[s.ShardId] + AcksPerShardBetweenKills))
        {
            if (deadline.Elapsed > _progressTimeout)
            {
                var leaders = new List<string>();
                foreach (var s in shards)
                {
                    var group = await cluster.FindGroupAsync($"{StreamName}/{s.ShardId}");
                    leaders.Add($"{s.ShardId}: {ledger.AcksOf(s.ShardId) - start[s.ShardId]} new acks, leader {group?.Leader ?? "none"} (term {group?.Term})");
                }

                throw new TimeoutException(
                    $"The shards did not each take {AcksPerShardBetweenKills} more acknowledged records within {_progressTimeout.TotalSeconds} s {when}: "
                    + $"{string.Join("; ", leaders)}. Failed attempts so far: {ledger.FailureSummary()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until the restarted node serves, from its own replica, the latest record acknowledged
    /// on each shard: its replica caught up and takes part again. A replica that lost its data or
    /// stopped would otherwise go unnoticed while the two other nodes carry on.
    /// </summary>
    private static async Task WaitForCatchUpAsync(NodeProcess node, List<Shard> shards, WriteLedger ledger, string when)
    {
        var acked = ledger.Acked;
        foreach (var shard in shards)
        {
            var target = acked.Where(a => a.ShardId == shard.ShardId).MaxBy(a => a.AckedAtSeconds);
            if (target is null)
            {
                continue;
            }

            var deadline = Stopwatch.StartNew();
            var last = "no answer yet";
            while (true)
            {
                try
                {
                    var iterator = (await node.Streams.GetShardIteratorAsync(
                        new GetShardIteratorRequest { StreamName = StreamName, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.AtSequenceNumber, StartingSequenceNumber = target.SequenceNumber },
                        TestCluster.Call(TimeSpan.FromSeconds(3)))).ShardIterator;
                    var read = await node.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 1 }, TestCluster.Call(TimeSpan.FromSeconds(3)));
                    if (read.Records.Count == 1 && read.Records[0].SequenceNumber == target.SequenceNumber && read.Records[0].Data.ToStringUtf8() == target.Payload)
                    {
                        break;
                    }

                    last = read.Records.Count == 0 ? "GetRecords returned nothing" : $"GetRecords returned {StreamOps.Describe(read.Records[0])}";
                }
                catch (RpcException ex)
                {
                    // A replica that has not applied the record yet refuses its sequence number.
                    last = $"{StreamOps.ErrorName(ex)}: {ex.Status.Detail}";
                }

                if (deadline.Elapsed > _catchUpTimeout)
                {
                    throw new TimeoutException(
                        $"After {when}, {node.Id} did not serve {shard.ShardId} {target.SequenceNumber} ('{target.Payload}', acknowledged at {target.AckedAtSeconds:F2}s through {target.Via}) "
                        + $"from its replica within {_catchUpTimeout.TotalSeconds} s: its replica did not catch up. Last answer: {last}");
                }

                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// Every shard as every node returns it, from TRIM_HORIZON to the end. A node still catching up
    /// (a restarted follower) may return less at first: reads are repeated until the nodes agree,
    /// or for at most half a minute; whatever they return then is checked.
    /// </summary>
    private static async Task<Dictionary<NodeProcess, List<ShardRead>>> ReadEverywhereAsync(TestCluster cluster, List<Shard> shards)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reads = new Dictionary<NodeProcess, List<ShardRead>>();
            foreach (var node in cluster.Nodes)
            {
                var list = new List<ShardRead>();
                foreach (var shard in shards)
                {
                    list.Add(await ReadWithRetriesAsync(node, shard.ShardId));
                }

                reads[node] = list;
            }

            var agree = shards.All(shard =>
            {
                var first = reads[cluster.Nodes[0]].Single(r => r.ShardId == shard.ShardId).Records;
                return cluster.Nodes.Skip(1).All(n => SameRecords(first, reads[n].Single(r => r.ShardId == shard.ShardId).Records));
            });
            if (agree || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                return reads;
            }

            await Task.Delay(500);
        }
    }

    private static async Task<ShardRead> ReadWithRetriesAsync(NodeProcess node, string shardId)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StreamOps.ReadShardAsync(node, StreamName, shardId);
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex) && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    private static bool SameRecords(IReadOnlyList<Record> left, IReadOnlyList<Record> right) =>
        left.Count == right.Count && left.Zip(right).All(p => p.First.Equals(p.Second));

    private static List<string> Verify(TestCluster cluster, List<Shard> shards, Dictionary<NodeProcess, List<ShardRead>> reads, WriteLedger ledger)
    {
        var problems = new List<string>();
        var reference = cluster.Nodes[0];
        foreach (var shard in shards)
        {
            var (start, end) = StreamOps.RangeOf(shard);
            var expected = reads[reference].Single(r => r.ShardId == shard.ShardId).Records;

            // The three nodes return the same records, field for field.
            foreach (var node in cluster.Nodes.Skip(1))
            {
                var other = reads[node].Single(r => r.ShardId == shard.ShardId).Records;
                if (!SameRecords(expected, other))
                {
                    var at = Enumerable.Range(0, Math.Min(expected.Count, other.Count)).FirstOrDefault(i => !expected[i].Equals(other[i]), Math.Min(expected.Count, other.Count));
                    problems.Add(
                        $"{shard.ShardId}: {node.Id} returned {other.Count} records, {reference.Id} {expected.Count}; first difference at position {at}: "
                        + $"{(at < other.Count ? StreamOps.Describe(other[at]) : "none")} on {node.Id} against {(at < expected.Count ? StreamOps.Describe(expected[at]) : "none")} on {reference.Id}");
                }
            }

            foreach (var node in cluster.Nodes)
            {
                var records = reads[node].Single(r => r.ShardId == shard.ShardId).Records;
                for (var i = 1; i < records.Count; i++)
                {
                    if (StreamOps.CompareSequenceNumbers(records[i - 1].SequenceNumber, records[i].SequenceNumber) >= 0)
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: record {i} {StreamOps.Describe(records[i])} does not follow {StreamOps.Describe(records[i - 1])} in sequence-number order");
                    }
                }

                foreach (var record in records)
                {
                    if (!ledger.WasSent(record.Data.ToStringUtf8()))
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: {StreamOps.Describe(record)} was never written by a client");
                    }

                    if (record.ExplicitHashKey.Length == 0 || !UInt128.TryParse(record.ExplicitHashKey, CultureInfo.InvariantCulture, out var key) || key < start || key > end)
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: {StreamOps.Describe(record)} has explicit hash key '{record.ExplicitHashKey}', not inside the shard's range");
                    }
                }
            }
        }

        // Every record at most once on each node (an idempotent retry never lands twice); every
        // acknowledged one exactly once, in its shard, at its acknowledged sequence number.
        foreach (var node in cluster.Nodes)
        {
            problems.AddRange(ledger.ProblemsOn(node.Id, reads[node]));
        }

        // Two acknowledgements never name the same place.
        problems.AddRange(ledger.Clashes());

        return problems;
    }
}
