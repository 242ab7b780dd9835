using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Client.Producing;
using Streams.Rpc;
using Xunit.Abstractions;

namespace Streams.Cluster.Tests;

/// <summary>
/// The SDK's producer against three node processes: writers send records of many partition keys
/// through one idempotent producer (Produce streams or PutRecords calls, several batches in flight
/// per shard, a small buffer) while the leaders of shards are SIGKILLed and restarted, and then while two of the three
/// nodes are down at once (no quorum: the cluster stalls, the producer's buffer fills and the writers
/// wait). Afterwards every shard is read: every record sent was acknowledged and is there exactly
/// once, at its acknowledged place, and each key's records are in the order they were sent; the
/// buffer never held more than its bound.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ProducerTests(ITestOutputHelper output)
{
    private const string StreamName = "producer-test";
    private const int ShardCount = 3;
    private const int Writers = 3;
    private const int KeysPerWriter = 16;
    private const long BufferBound = 256 * 1024;

    // Acknowledged records wanted after each restart before going on: the producer recovered.
    private const int AcksBetweenFaults = 300;

    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(45);

    [Theory]
    [InlineData(ProducerTransport.ProduceStream)]
    [InlineData(ProducerTransport.PutRecords)]
    public async Task Records_of_each_key_land_once_and_in_order_through_leader_kills_and_a_stall_within_the_buffer_bound(ProducerTransport transport)
    {
        var seed = TestSeed.FromEnvironment("STREAMS_CLUSTER_PRODUCER_SEED");
        var leaderKills = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 15 : 5;
        output.WriteLine($"seed {seed} (rerun with STREAMS_CLUSTER_PRODUCER_SEED={seed}), {leaderKills} leader kills, transport {transport}");
        var random = new Random(seed);
        var timeline = new TestTimeline(output);
        var clock = timeline.Clock;
        var sent = new ConcurrentQueue<SentRecord>();
        var failures = new ConcurrentQueue<string>();
        long acked = 0;
        long maxBuffered = 0;
        var passed = false;
        TestCluster? cluster = null;
        Task[] writers = [];
        using var stopWriters = new CancellationTokenSource();

        void Log(string line) => timeline.Log(line);

        try
        {
            cluster = await TestCluster.StartAsync(3, "producer");
            Log("3 nodes listening");
            await StreamOps.CreateStreamAsync(cluster, cluster.Nodes[0], StreamName, ShardCount, replicationFactor: 3);
            var shards = (await StreamOps.ListShardsAsync(cluster.Nodes[0], StreamName)).OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            Log($"stream ACTIVE: {string.Join("; ", shards.Select(s => $"{s.ShardId} leader {s.Leader}"))}");

            // The producer's warnings and what it does about failures go to the timeline.
            using var logs = new TimelineLoggerProvider(Log);
            using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug).AddFilter("Streams.Client.StreamsClient", LogLevel.Information));
            using var client = new StreamsClient(new StreamsClientOptions
            {
                LoggerFactory = loggerFactory,
                Endpoints = [.. cluster.Nodes.Select(n => n.GrpcAddress)],
                InitialRetryDelay = TimeSpan.FromMilliseconds(20),
                MaxRetryDelay = TimeSpan.FromMilliseconds(500),
                RequestTimeout = TimeSpan.FromSeconds(10),
                Random = new Random(random.Next()),
            });
            var producer = new Producer(client, new ProducerOptions
            {
                StreamName = StreamName,
                BatchMaxRecords = 100,
                BatchMaxBytes = 32 * 1024,
                BufferMaxBytes = BufferBound,
                MaxInFlightBatchesPerShard = 4,
                DisposeTimeout = TimeSpan.FromSeconds(5),
                Transport = transport,
            });
            await using var disposeProducer = producer;

            // The buffer is watched all along, stall included.
            var watching = Task.Run(async () =>
            {
                while (!stopWriters.IsCancellationRequested)
                {
                    InterlockedMax(ref maxBuffered, producer.BufferedBytes);
                    await Task.Delay(5);
                }
            });

            writers = [.. Enumerable.Range(0, Writers).Select(w =>
            {
                var writerSeed = random.Next();
                return Task.Run(() => WriteAsync(producer, w, writerSeed, sent, failures, () => Interlocked.Increment(ref acked), stopWriters.Token));
            }), watching];

            await WaitForAcksAsync(() => Interlocked.Read(ref acked), AcksBetweenFaults, "before the first kill");
            for (var kill = 1; kill <= leaderKills; kill++)
            {
                await Task.Delay(random.Next(0, 300));
                var shard = shards[random.Next(shards.Count)];
                var group = await cluster.WaitForGroupLeaderAsync($"{StreamName}/{shard.ShardId}", _progressTimeout);
                var victim = cluster.Node(group.Leader);
                await victim.KillAsync();
                Log($"kill {kill}: SIGKILL {victim.Id} (leader of {shard.ShardId}, term {group.Term}); {Interlocked.Read(ref acked)} acks so far, {producer.BufferedBytes} bytes buffered");
                await Task.Delay(random.Next(800, 1200));
                await victim.StartAsync();
                Log($"kill {kill}: {victim.Id} restarted");
                await WaitForAcksAsync(() => Interlocked.Read(ref acked), AcksBetweenFaults, $"after kill {kill}");
                Log($"kill {kill}: writes go on ({Interlocked.Read(ref acked)} acks)");
            }

            // Two nodes down: no shard has a quorum. The buffer fills, the writers wait.
            var down = cluster.Nodes.OrderBy(_ => random.Next()).Take(2).ToList();
            foreach (var node in down)
            {
                await node.KillAsync();
            }

            var ackedAtStall = Interlocked.Read(ref acked);
            Log($"stall: SIGKILL {string.Join(" and ", down.Select(n => n.Id))}; {ackedAtStall} acks so far");
            var filled = Stopwatch.StartNew();
            while (producer.BufferedBytes < BufferBound * 3 / 4 && filled.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(20);
            }

            await Task.Delay(1000);
            Log($"stall: {producer.BufferedBytes} bytes buffered after {filled.Elapsed.TotalSeconds:F1} s (bound {BufferBound}), most seen {Interlocked.Read(ref maxBuffered)}; {Interlocked.Read(ref acked) - ackedAtStall} acks meanwhile");
            Assert.True(producer.BufferedBytes >= BufferBound / 2, $"the buffer held only {producer.BufferedBytes} bytes while the cluster was stalled: the writers did not fill it");
            foreach (var node in down)
            {
                await node.StartAsync();
            }

            Log("stall: both nodes restarted");
            await WaitForAcksAsync(() => Interlocked.Read(ref acked), AcksBetweenFaults, "after the stall");

            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);
            using (var flush = new CancellationTokenSource(_progressTimeout))
            {
                await producer.FlushAsync(flush.Token);
            }

            var records = sent.ToList();
            Log($"writers stopped and flushed: {records.Count} records sent, {Interlocked.Read(ref acked)} acknowledged, most buffered {Interlocked.Read(ref maxBuffered)} of {BufferBound} bytes");

            var problems = new List<string>(failures);
            if (Interlocked.Read(ref maxBuffered) > BufferBound)
            {
                problems.Add($"the producer held {Interlocked.Read(ref maxBuffered)} bytes, more than its bound of {BufferBound}");
            }

            problems.AddRange(await VerifyAsync(cluster, shards.Select(s => s.ShardId).ToList(), records));
            if (problems.Count > 0)
            {
                Assert.Fail($"{problems.Count} problem(s); the first ones:\n{string.Join('\n', problems.Take(30))}");
            }

            passed = true;
        }
        catch (Exception ex)
        {
            throw await ClusterRun.FailureAsync(ex, $"seed {seed} (rerun with STREAMS_CLUSTER_PRODUCER_SEED={seed}); {clock.Elapsed.TotalSeconds:F1} s, {Interlocked.Read(ref acked)} acks, {sent.Count} records sent.", timeline.Lines, cluster);
        }
        finally
        {
            await ClusterRun.CleanUpAsync(cluster, stopWriters, writers, passed);
        }
    }

    // One writer: its own partition keys, each with a counter; bursts of records with short pauses.
    private static async Task WriteAsync(Producer producer, int writer, int seed, ConcurrentQueue<SentRecord> sent, ConcurrentQueue<string> failures, Func<long> onAck, CancellationToken stop)
    {
        var random = new Random(seed);
        var counters = new int[KeysPerWriter];
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < 10; i++)
            {
                var key = random.Next(KeysPerWriter);
                var partitionKey = $"w{writer}-k{key}";
                var payload = $"{partitionKey}/{counters[key]++}";
                RecordReceipt receipt;
                try
                {
                    receipt = await producer.SendAsync(partitionKey, Encoding.UTF8.GetBytes(payload), cancellationToken: stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }

                var record = new SentRecord(partitionKey, payload, receipt.Completion);
                sent.Enqueue(record);
                _ = receipt.Completion.ContinueWith(
                    t =>
                    {
                        if (t.IsCompletedSuccessfully)
                        {
                            onAck();
                        }
                        else
                        {
                            failures.Enqueue($"'{payload}' failed: {t.Exception?.InnerException?.Message}");
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }

            await Task.Delay(random.Next(5, 15), CancellationToken.None);
        }
    }

    private static async Task WaitForAcksAsync(Func<long> acks, int more, string when)
    {
        var target = acks() + more;
        var deadline = Stopwatch.StartNew();
        while (acks() < target)
        {
            if (deadline.Elapsed > _progressTimeout)
            {
                throw new TimeoutException($"The producer did not get {more} more records acknowledged within {_progressTimeout.TotalSeconds} s {when} ({acks()} acknowledged in all).");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Reads every shard through every node and checks the records against what was sent and acknowledged.</summary>
    private static async Task<List<string>> VerifyAsync(TestCluster cluster, List<string> shardIds, List<SentRecord> records)
    {
        var problems = new List<string>();
        var results = new Dictionary<string, (SentRecord Record, RecordResult Result)>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (!record.Completion.IsCompletedSuccessfully)
            {
                problems.Add($"'{record.Payload}' was never acknowledged ({record.Completion.Status})");
                continue;
            }

            results[record.Payload] = (record, record.Completion.Result);
        }

        foreach (var node in cluster.Nodes)
        {
            // A node restarted last may still be catching up: it is read again for a while.
            List<string> found = [];
            for (var attempt = 1; attempt <= 20; attempt++)
            {
                found = await VerifyNodeAsync(node, shardIds, results);
                if (found.Count == 0)
                {
                    break;
                }

                await Task.Delay(500);
            }

            problems.AddRange(found);
        }

        return problems;
    }

    private static async Task<List<string>> VerifyNodeAsync(NodeProcess node, List<string> shardIds, Dictionary<string, (SentRecord Record, RecordResult Result)> results)
    {
        var problems = new List<string>();
        {
            var held = new Dictionary<string, List<(string ShardId, string SequenceNumber)>>(StringComparer.Ordinal);
            foreach (var shardId in shardIds)
            {
                var read = await ReadWithRetriesAsync(node, shardId);
                var lastOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var record in read.Records)
                {
                    var payload = record.Data.ToStringUtf8();
                    if (!held.TryGetValue(payload, out var places))
                    {
                        held[payload] = places = [];
                    }

                    places.Add((shardId, record.SequenceNumber));

                    // Within a shard, a key's records come in the order they were sent.
                    var counter = int.Parse(payload[(payload.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);
                    if (lastOfKey.TryGetValue(record.PartitionKey, out var previous) && counter <= previous)
                    {
                        problems.Add($"on {node.Id}, {shardId}: '{payload}' at {record.SequenceNumber} comes after record {previous} of key {record.PartitionKey}");
                    }

                    lastOfKey[record.PartitionKey] = Math.Max(counter, previous);
                }
            }

            foreach (var (payload, places) in held)
            {
                if (places.Count > 1)
                {
                    problems.Add($"on {node.Id}: '{payload}' is there {places.Count} times: {string.Join(", ", places.Select(p => $"{p.ShardId} {p.SequenceNumber}"))}");
                }
                else if (!results.ContainsKey(payload))
                {
                    problems.Add($"on {node.Id}: '{payload}' is there but was never acknowledged");
                }
            }

            foreach (var (payload, (_, result)) in results)
            {
                if (!held.TryGetValue(payload, out var places))
                {
                    problems.Add($"on {node.Id}: '{payload}' was acknowledged at {result.ShardId} {result.SequenceNumber} but is missing");
                }
                else if (places[0].ShardId != result.ShardId || places[0].SequenceNumber != result.SequenceNumber)
                {
                    problems.Add($"on {node.Id}: '{payload}' was acknowledged at {result.ShardId} {result.SequenceNumber} but is at {places[0].ShardId} {places[0].SequenceNumber}");
                }
            }
        }

        return problems;
    }

    /// <summary>A shard from TRIM_HORIZON through one node; a node still catching up after its restart is asked again until it holds what the others do.</summary>
    private static async Task<ShardRead> ReadWithRetriesAsync(NodeProcess node, string shardId)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StreamOps.ReadShardAsync(node, StreamName, shardId);
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex) && attempt < 40)
            {
                await Task.Delay(250);
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private sealed record SentRecord(string PartitionKey, string Payload, Task<RecordResult> Completion);
}
