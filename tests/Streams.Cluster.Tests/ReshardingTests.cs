using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Streams.Rpc;
using Streams.V1;
using Xunit.Abstractions;

namespace Streams.Cluster.Tests;

/// <summary>
/// Three node processes, a stream of two shards; writers put records with random partition keys
/// through random nodes (routed by the server) while the stream is resharded: a split, then a
/// merge of two adjacent open shards, then UpdateShardCount. Then every shard is read from every
/// node, parents to their end before their children: every acknowledged record must be there
/// exactly once, in the shard and at the sequence number it was acknowledged with, each shard in
/// order, each record in a shard whose hash-key range holds its partition key, and the nodes must
/// agree. Writes are not idempotent: every attempt sends fresh payloads, so a record whose write
/// failed may be there or not, but never twice.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ReshardingTests(ITestOutputHelper output)
{
    private const string StreamName = "reshard-test";
    private const int Writers = 3;

    // Acknowledged records wanted after each change before the next: writes go on.
    private const int AcksBetweenChanges = 300;

    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_acknowledged_record_is_read_once_across_splits_merges_and_UpdateShardCount()
    {
        var rounds = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 3 : 1;
        var seed = TestSeed.FromEnvironment("STREAMS_CLUSTER_RESHARD_SEED");
        var random = new Random(seed);
        var timeline = new TestTimeline(output);
        var clock = timeline.Clock;
        var ledger = new WriteLedger(clock);
        var passed = false;
        TestCluster? cluster = null;
        Task[] writers = [];
        using var stopWriters = new CancellationTokenSource();

        void Log(string line) => timeline.Log(line);

        Log($"seed {seed} (rerun with STREAMS_CLUSTER_RESHARD_SEED={seed}), {rounds} round(s) of split, merge, UpdateShardCount");
        try
        {
            cluster = await TestCluster.StartAsync(3, "reshard");
            Log("3 nodes listening");
            await StreamOps.CreateStreamAsync(cluster, cluster.Nodes[0], StreamName, 2, replicationFactor: 0);
            Log("stream ACTIVE with 2 shards");

            var writerCluster = cluster;
            writers = [.. Enumerable.Range(1, Writers).Select(w =>
            {
                var writerSeed = random.Next();
                return Task.Run(() => WriteUntilStoppedAsync(writerCluster, w, writerSeed, ledger, stopWriters.Token));
            })];
            await WaitForAcksAsync(ledger, AcksBetweenChanges, "before the first change");

            var openCount = 2;
            for (var round = 1; round <= rounds; round++)
            {
                // Split an open shard at random, at a random key strictly inside its range.
                var open = await OpenShardsAsync(cluster, random);
                var toSplit = open[random.Next(open.Count)];
                var (start, end) = StreamOps.RangeOf(toSplit);
                var at = StreamOps.RandomIn(random, start + 1, end);
                await ReshardAsync(cluster, random, $"SplitShard {toSplit.ShardId} at {at}", node =>
                    node.Streams.SplitShardAsync(new SplitShardRequest { StreamName = StreamName, ShardToSplit = toSplit.ShardId, NewStartingHashKey = at.ToString(CultureInfo.InvariantCulture) }, TestCluster.Call(TimeSpan.FromSeconds(20))).ResponseAsync);
                openCount++;
                await StreamOps.WaitForActiveAsync(cluster, cluster.Nodes[0], StreamName, openCount, _progressTimeout);
                Log($"round {round}: split {toSplit.ShardId} at {at}; {openCount} open shards: {await ShardMapAsync(cluster, random)}");
                await WaitForAcksAsync(ledger, AcksBetweenChanges, $"after the split of round {round}");

                // Merge two adjacent open shards at random.
                open = await OpenShardsAsync(cluster, random);
                var first = random.Next(open.Count - 1);
                var (left, right) = (open[first], open[first + 1]);
                await ReshardAsync(cluster, random, $"MergeShards {left.ShardId} + {right.ShardId}", node =>
                    node.Streams.MergeShardsAsync(new MergeShardsRequest { StreamName = StreamName, ShardToMerge = left.ShardId, AdjacentShardToMerge = right.ShardId }, TestCluster.Call(TimeSpan.FromSeconds(20))).ResponseAsync);
                openCount--;
                await StreamOps.WaitForActiveAsync(cluster, cluster.Nodes[0], StreamName, openCount, _progressTimeout);
                Log($"round {round}: merged {left.ShardId} and {right.ShardId}; {openCount} open shards: {await ShardMapAsync(cluster, random)}");
                await WaitForAcksAsync(ledger, AcksBetweenChanges, $"after the merge of round {round}");

                // UpdateShardCount: one more (or, from 4, one fewer).
                var target = openCount >= 4 ? openCount - 1 : openCount + 1;
                await ReshardAsync(cluster, random, $"UpdateShardCount {openCount} -> {target}", node =>
                    node.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = StreamName, TargetShardCount = target, ScalingType = ScalingType.UniformScaling }, TestCluster.Call(TimeSpan.FromSeconds(20))).ResponseAsync);
                openCount = target;
                await StreamOps.WaitForActiveAsync(cluster, cluster.Nodes[0], StreamName, openCount, _progressTimeout);
                Log($"round {round}: UpdateShardCount to {target}; open shards: {await ShardMapAsync(cluster, random)}");
                await WaitForAcksAsync(ledger, AcksBetweenChanges, $"after UpdateShardCount of round {round}");
            }

            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);
            Log($"writers stopped: {ledger.Acks} records acknowledged, {ledger.SentPayloads} sent in {ledger.Attempts} requests; failed: {ledger.FailureSummary()}");

            var shards = await StreamOps.RetryAsync(cluster, random, "ListShards", node => StreamOps.ListShardsAsync(node, StreamName));
            var reads = new Dictionary<NodeProcess, Dictionary<string, ShardRead>>();
            foreach (var node in cluster.Nodes)
            {
                reads[node] = await ReadInFamilyOrderAsync(node, shards);
            }

            Log($"read back from every node: {string.Join("; ", shards.Select(s => $"{s.ShardId} ({(StreamOps.IsOpen(s) ? "open" : "closed")}, parents {string.Join("+", StreamOps.ParentsOf(s))}) {string.Join("/", cluster.Nodes.Select(n => reads[n][s.ShardId].Records.Count))}"))}");
            var problems = new List<string>(ledger.Problems);
            problems.AddRange(Verify(cluster, shards, reads, ledger));
            var summary = $"{ledger.Acks} acknowledged records of {ledger.SentPayloads} sent, {shards.Count} shards ({shards.Count(StreamOps.IsOpen)} open), {clock.Elapsed.TotalSeconds:F1} s; "
                + $"acks per shard: {string.Join(", ", shards.Select(s => $"{s.ShardId} {ledger.AcksOf(s.ShardId)}"))}; failed: {ledger.FailureSummary()}";
            Log(summary);
            if (problems.Count > 0)
            {
                Assert.Fail($"{problems.Count} problem(s); the first ones:\n{string.Join('\n', problems.Take(30))}\n{summary}");
            }

            passed = true;
        }
        catch (Exception ex)
        {
            throw await ClusterRun.FailureAsync(ex, $"seed {seed} (rerun with STREAMS_CLUSTER_RESHARD_SEED={seed}); {clock.Elapsed.TotalSeconds:F1} s, " + $"{ledger.Acks} acks; failed: {ledger.FailureSummary()}.", timeline.Lines, cluster);
        }
        finally
        {
            await ClusterRun.CleanUpAsync(cluster, stopWriters, writers, passed);
        }
    }

    /// <summary>
    /// Batches of 1-20 records with random partition keys through a random node; each attempt
    /// sends fresh payloads (a failed record is not sent again), so nothing may be there twice.
    /// </summary>
    private static async Task WriteUntilStoppedAsync(TestCluster cluster, int writer, int seed, WriteLedger ledger, CancellationToken stop)
    {
        var random = new Random(seed);
        var batch = 0;
        while (!stop.IsCancellationRequested)
        {
            batch++;
            var request = new PutRecordsRequest { StreamName = StreamName };
            var count = random.Next(1, 21);
            for (var i = 0; i < count; i++)
            {
                request.Records.Add(new PutRecordsRequestEntry
                {
                    Data = ByteString.CopyFromUtf8($"w{writer}-b{batch}-r{i}"),
                    PartitionKey = $"key-{random.NextInt64():x}",
                });
            }

            var payloads = request.Records.Select(r => r.Data.ToStringUtf8()).ToList();
            var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
            ledger.Sent(payloads);
            try
            {
                var response = await node.Streams.PutRecordsAsync(request, TestCluster.Call());
                if (response.Records.Count != count)
                {
                    ledger.Problem($"writer {writer}: PutRecords of {count} records through {node.Id} answered {response.Records.Count} results");
                    continue;
                }

                var failed = 0;
                for (var i = 0; i < count; i++)
                {
                    var result = response.Records[i];
                    if (result.ErrorCode.Length == 0)
                    {
                        ledger.Ack(new AckedRecord(result.ShardId, result.SequenceNumber, payloads[i], request.Records[i].PartitionKey, writer, ledger.Now, node.Id));
                    }
                    else
                    {
                        failed++;
                        ledger.Failed($"record {result.ErrorCode}");
                    }
                }

                if (failed != response.FailedRecordCount)
                {
                    ledger.Problem($"writer {writer}: PutRecords through {node.Id} says failed_record_count {response.FailedRecordCount} but {failed} records carry an error");
                }

                if (failed == 0)
                {
                    ledger.BatchAcked();
                }
            }
            catch (RpcException ex)
            {
                ledger.Failed(StreamOps.ErrorName(ex), count);
                if (!StreamOps.IsTransient(ex))
                {
                    ledger.Problem($"writer {writer}: PutRecords through {node.Id} failed with a lasting error: {ex.Status}");
                }

                await Task.Delay(random.Next(20, 60), CancellationToken.None);
            }
        }
    }

    /// <summary>The open shards in hash-key order, so that neighbours in the list are adjacent.</summary>
    private static async Task<List<Shard>> OpenShardsAsync(TestCluster cluster, Random random)
    {
        var shards = await StreamOps.RetryAsync(cluster, random, "ListShards", node => StreamOps.ListShardsAsync(node, StreamName));
        return [.. shards.Where(StreamOps.IsOpen).OrderBy(s => StreamOps.RangeOf(s).Start)];
    }

    private static async Task<string> ShardMapAsync(TestCluster cluster, Random random)
    {
        var open = await OpenShardsAsync(cluster, random);
        return string.Join("; ", open.Select(s => $"{s.ShardId} from {s.HashKeyRange.StartingHashKey} leader {s.Leader}"));
    }

    /// <summary>
    /// A resharding call through a random node. A call that failed without an answer may have
    /// happened: it is not repeated blindly (a second split would split a child); the caller waits
    /// for the shard count it expects, which tells.
    /// </summary>
    private static async Task ReshardAsync<T>(TestCluster cluster, Random random, string what, Func<NodeProcess, Task<T>> call)
    {
        var node = cluster.RandomRunningNode(random);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await call(node);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Trailers.GetValue(Client.Api.StreamsErrors.TrailerName) is not null && attempt < 20)
            {
                // Refused before anything was proposed (no controller leader yet): try again.
                await Task.Delay(250);
            }
            catch (RpcException ex)
            {
                throw new InvalidOperationException($"{what} through {node.Id} failed: {ex.Status} ({StreamOps.ErrorName(ex)})", ex);
            }
        }
    }

    private static async Task WaitForAcksAsync(WriteLedger ledger, int count, string when)
    {
        var start = ledger.Acks;
        var deadline = Stopwatch.StartNew();
        while (ledger.Acks < start + count)
        {
            if (deadline.Elapsed > _progressTimeout)
            {
                throw new TimeoutException($"Only {ledger.Acks - start} of {count} records were acknowledged within {_progressTimeout.TotalSeconds} s {when}; failed so far: {ledger.FailureSummary()}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Reads every shard through one node, a shard only once all its parents were read to their end.
    /// A closed shard must be read to its end (child_shards set); a node that has not applied the
    /// seal yet is asked again for up to half a minute.
    /// </summary>
    private static async Task<Dictionary<string, ShardRead>> ReadInFamilyOrderAsync(NodeProcess node, List<Shard> shards)
    {
        var done = new Dictionary<string, ShardRead>(StringComparer.Ordinal);
        while (done.Count < shards.Count)
        {
            var ready = shards.Where(s => !done.ContainsKey(s.ShardId) && StreamOps.ParentsOf(s).All(p => done.TryGetValue(p, out var parent) && parent.ReachedEnd)).ToList();
            if (ready.Count == 0)
            {
                var stuck = shards.Where(s => !done.ContainsKey(s.ShardId)).Select(s => $"{s.ShardId} (parents {string.Join("+", StreamOps.ParentsOf(s))})");
                throw new InvalidOperationException($"On {node.Id}, these shards cannot be read because a parent was not read to its end: {string.Join(", ", stuck)}");
            }

            foreach (var shard in ready)
            {
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    ShardRead read;
                    try
                    {
                        read = await StreamOps.ReadShardAsync(node, StreamName, shard.ShardId);
                    }
                    catch (RpcException ex) when (StreamOps.IsTransient(ex) && deadline.Elapsed < TimeSpan.FromSeconds(30))
                    {
                        await Task.Delay(250);
                        continue;
                    }

                    if (read.ReachedEnd || StreamOps.IsOpen(shard) || deadline.Elapsed > TimeSpan.FromSeconds(30))
                    {
                        done[shard.ShardId] = read;
                        break;
                    }

                    await Task.Delay(250);
                }
            }
        }

        return done;
    }

    private static List<string> Verify(TestCluster cluster, List<Shard> shards, Dictionary<NodeProcess, Dictionary<string, ShardRead>> reads, WriteLedger ledger)
    {
        var problems = new List<string>();
        var reference = cluster.Nodes[0];
        var byId = shards.ToDictionary(s => s.ShardId, StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            var (start, end) = StreamOps.RangeOf(shard);
            var expectedChildren = shards.Where(s => StreamOps.ParentsOf(s).Contains(shard.ShardId)).Select(s => s.ShardId).Order(StringComparer.Ordinal).ToList();
            if (StreamOps.IsOpen(shard) != (expectedChildren.Count == 0))
            {
                problems.Add($"{shard.ShardId}: ListShards gives it {(StreamOps.IsOpen(shard) ? "no ending sequence number (open)" : $"ending sequence number {shard.SequenceNumberRange.EndingSequenceNumber}")} but {expectedChildren.Count} children");
            }

            foreach (var node in cluster.Nodes)
            {
                var read = reads[node][shard.ShardId];
                if (StreamOps.IsOpen(shard) == read.ReachedEnd)
                {
                    problems.Add($"{shard.ShardId} on {node.Id}: ListShards says it is {(StreamOps.IsOpen(shard) ? "open" : "closed")}, but GetRecords {(read.ReachedEnd ? "reached its end" : "never reached its end (no empty next_shard_iterator)")}");
                }

                if (read.ReachedEnd)
                {
                    var children = read.Children.Select(c => c.ShardId).Order(StringComparer.Ordinal).ToList();
                    if (!children.SequenceEqual(expectedChildren))
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: GetRecords at its end names children [{string.Join(", ", children)}], ListShards [{string.Join(", ", expectedChildren)}]");
                    }
                }

                var records = read.Records;
                for (var i = 1; i < records.Count; i++)
                {
                    if (StreamOps.CompareSequenceNumbers(records[i - 1].SequenceNumber, records[i].SequenceNumber) >= 0)
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: record {i} {StreamOps.Describe(records[i])} does not follow {StreamOps.Describe(records[i - 1])} in sequence-number order");
                    }
                }

                foreach (var record in records)
                {
                    var hash = StreamOps.HashOf(record.PartitionKey);
                    if (hash < start || hash > end)
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: {StreamOps.Describe(record)} hashes to {hash}, outside the shard's range [{start}, {end}]");
                    }

                    if (!ledger.WasSent(record.Data.ToStringUtf8()))
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: {StreamOps.Describe(record)} was never written by a client");
                    }
                }

                if (node != reference)
                {
                    var expected = reads[reference][shard.ShardId].Records;
                    if (expected.Count != records.Count || !expected.Zip(records).All(p => p.First.Equals(p.Second)))
                    {
                        var at = Enumerable.Range(0, Math.Min(expected.Count, records.Count)).FirstOrDefault(i => !expected[i].Equals(records[i]), Math.Min(expected.Count, records.Count));
                        problems.Add(
                            $"{shard.ShardId}: {node.Id} returned {records.Count} records, {reference.Id} {expected.Count}; first difference at position {at}: "
                            + $"{(at < records.Count ? StreamOps.Describe(records[at]) : "none")} against {(at < expected.Count ? StreamOps.Describe(expected[at]) : "none")}");
                    }
                }
            }
        }

        foreach (var node in cluster.Nodes)
        {
            var byPayload = reads[node].Values
                .SelectMany(r => r.Records.Select(record => (r.ShardId, Record: record)))
                .GroupBy(x => x.Record.Data.ToStringUtf8(), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            foreach (var (payload, copies) in byPayload.Where(p => p.Value.Count > 1))
            {
                problems.Add($"on {node.Id}: '{payload}' (sent once) is there {copies.Count} times: {string.Join(", ", copies.Select(c => $"{c.ShardId} {c.Record.SequenceNumber}"))}");
            }

            foreach (var ack in ledger.Acked.OrderBy(a => a.AckedAtSeconds))
            {
                if (!byId.ContainsKey(ack.ShardId))
                {
                    problems.Add($"'{ack.Payload}' was acknowledged in {ack.ShardId}, which ListShards does not list");
                }
                else if (!byPayload.TryGetValue(ack.Payload, out var found))
                {
                    problems.Add($"on {node.Id}: '{ack.Payload}' was acknowledged at {ack.ShardId} {ack.SequenceNumber} (at {ack.AckedAtSeconds:F2}s through {ack.Via}) but is missing");
                }
                else if (found.Count == 1 && (found[0].ShardId != ack.ShardId || found[0].Record.SequenceNumber != ack.SequenceNumber))
                {
                    problems.Add($"on {node.Id}: '{ack.Payload}' was acknowledged at {ack.ShardId} {ack.SequenceNumber} (at {ack.AckedAtSeconds:F2}s through {ack.Via}) but is at {found[0].ShardId} {found[0].Record.SequenceNumber}");
                }
            }
        }

        foreach (var clash in ledger.Acked.GroupBy(a => (a.ShardId, a.SequenceNumber)).Where(g => g.Count() > 1))
        {
            problems.Add($"{clash.Key.ShardId} {clash.Key.SequenceNumber} was acknowledged for {clash.Count()} records: {string.Join(", ", clash.Select(a => $"'{a.Payload}' at {a.AckedAtSeconds:F2}s"))}");
        }

        return problems;
    }
}
