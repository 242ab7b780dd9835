using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Client.Api;
using Streams.Client.Consuming;
using Streams.Rpc;
using Streams.V1;
using Xunit.Abstractions;

namespace Streams.Cluster.Tests;

/// <summary>
/// Consumer groups on three node processes, with the SDK's <see cref="Consumer"/> in this process
/// (each with its own client): three consumers over eight shards get a fair share each; one killed
/// (its client torn away: no last checkpoint, no LeaveGroup) has its shards taken over by the others
/// within the session timeout; every record is processed at least once, and the only records
/// processed twice are the killed consumer's that came after its last checkpoint. A consumer cut off
/// from the cluster stops processing on its own, its shards move on, and its checkpoint is refused.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ConsumerGroupTests(ConsumerGroupCluster fixture, ITestOutputHelper output) : IClassFixture<ConsumerGroupCluster>
{
    private static readonly TimeSpan _session = TimeSpan.FromSeconds(2);

    // Handover waits for the session to lapse, then for a survivor's next heartbeat (a third of the
    // session) to sweep the dead member; the margin covers that, a controller round and a loaded machine.
    private static readonly TimeSpan _handoverBound = _session + TimeSpan.FromSeconds(2);
    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(30);

    private readonly TestTimeline _timeline = new(output);

    [Fact]
    public async Task Three_consumers_share_eight_shards_and_a_killed_one_s_shards_move_on_with_only_its_uncheckpointed_records_processed_again()
    {
        const string Stream = "consumer-group-8";
        const string Group = "billing";
        var cluster = fixture.Cluster;
        var processed = new ConcurrentQueue<(string Member, string ShardId, string SequenceNumber)>();
        var clients = new Dictionary<string, StreamsClient>();
        var consumers = new Dictionary<string, Consumer>();
        var runs = new Dictionary<string, Task>();
        using var stop = new CancellationTokenSource();
        using var loggers = _timeline.LoggerFactory();
        using var admin = NewClient(null);
        try
        {
            await StreamOps.CreateStreamAsync(cluster, cluster.Nodes[0], Stream, 8, replicationFactor: 3);
            var shards = (await StreamOps.ListShardsAsync(cluster.Nodes[0], Stream)).OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            _timeline.Log($"stream {Stream} ACTIVE with {shards.Count} shards");

            // Checkpoint every 25 records, nothing by time: each shard's last 10 of 60 stay uncheckpointed.
            foreach (var name in new[] { "consumer-a", "consumer-b", "consumer-c" })
            {
                clients[name] = NewClient(loggers);
                consumers[name] = new Consumer(clients[name], new ConsumerOptions
                {
                    StreamName = Stream,
                    GroupName = Group,
                    MemberId = name,
                    SessionTimeout = _session,
                    IdleDelay = TimeSpan.FromMilliseconds(50),
                    CheckpointEveryRecords = 25,
                    CheckpointInterval = TimeSpan.Zero,
                    ShutdownTimeout = TimeSpan.FromSeconds(5),
                });
                runs[name] = consumers[name].RunAsync((record, _) =>
                {
                    processed.Enqueue((name, record.ShardId, record.SequenceNumber));
                    return ValueTask.CompletedTask;
                }, stop.Token);
            }

            // Fair shares: 3, 3 and 2, no shard twice, and the server agrees.
            await WaitUntilAsync(() => Owned(consumers.Values).Count == 8 && consumers.Values.All(c => c.GetStatus().Shards.Count >= 2), _progressTimeout, "the three consumers did not settle on 8 shards");
            var shares = consumers.ToDictionary(c => c.Key, c => c.Value.GetStatus().Shards.Select(s => s.ShardId).ToList());
            _timeline.Log($"shares: {string.Join("; ", shares.Select(s => $"{s.Key} {string.Join(",", s.Value.Select(Short))}"))}");
            Assert.Equal([2, 3, 3], shares.Values.Select(s => s.Count).Order());
            Assert.Equal(8, shares.Values.SelectMany(s => s).Distinct().Count());
            await WaitUntilAsync(async () => (await GroupOwnersAsync(admin, Stream, Group)).Count == 8, _progressTimeout, "GetCheckpoints did not show 8 owned shards");
            var owners = await GroupOwnersAsync(admin, Stream, Group);
            Assert.All(shares, s => Assert.All(s.Value, shard => Assert.Equal(s.Key, owners[shard])));

            // 60 records per shard; all processed; checkpoints at the 50th.
            var written = new Dictionary<string, List<string>>();
            foreach (var shard in shards)
            {
                written[shard.ShardId] = await WriteToShardAsync(admin, Stream, shard, 60, "first");
            }

            _timeline.Log("wrote 60 records to each shard");
            await WaitUntilAsync(() => AllProcessed(written, processed), _progressTimeout, "the first 480 records were not all processed");
            await WaitUntilAsync(async () => (await CheckpointsAsync(admin, Stream, Group)).All(c => c.SequenceNumber == written[c.ShardId][49]), _progressTimeout, "the checkpoints did not reach each shard's 50th record");
            _timeline.Log("all processed; every shard checkpointed at its 50th record");

            // Kill the consumer with three shards: its client goes away under it.
            var victim = shares.First(s => s.Value.Count == 3).Key;
            var victimShards = shares[victim].ToHashSet();
            var killedAt = _timeline.Elapsed;
            clients[victim].Dispose();
            _timeline.Log($"killed {victim} (shards {string.Join(",", victimShards.Select(Short))})");
            await Assert.ThrowsAnyAsync<Exception>(() => runs[victim]);
            var checkpointAtKill = (await CheckpointsAsync(admin, Stream, Group)).ToDictionary(c => c.ShardId, c => c.SequenceNumber);

            var survivors = consumers.Where(c => c.Key != victim).ToDictionary(c => c.Key, c => c.Value);
            await WaitUntilAsync(() => Owned(survivors.Values).Count == 8, _handoverBound + TimeSpan.FromSeconds(10), "the survivors did not take the killed consumer's shards");
            var handover = _timeline.Elapsed - killedAt;
            _timeline.Log($"handover complete {handover.TotalMilliseconds:F0} ms after the kill (session timeout {_session.TotalMilliseconds:F0} ms)");
            Assert.True(handover <= _handoverBound, $"handover took {handover.TotalMilliseconds:F0} ms; the bound is {_handoverBound.TotalMilliseconds:F0} ms");
            Assert.All(survivors.Values, c => Assert.Equal(4, c.GetStatus().Shards.Count));
            Assert.All(survivors, s => Assert.Superset(shares[s.Key].ToHashSet(), s.Value.GetStatus().Shards.Select(x => x.ShardId).ToHashSet()));

            // The work goes on: 20 more records per shard.
            foreach (var shard in shards)
            {
                written[shard.ShardId].AddRange(await WriteToShardAsync(admin, Stream, shard, 20, "second"));
            }

            await WaitUntilAsync(() => AllProcessed(written, processed), _progressTimeout, "the second 160 records were not all processed");
            _timeline.Log("all 640 records processed");
            await stop.CancelAsync();
            await Task.WhenAll(survivors.Keys.Select(k => runs[k]));

            // At least once: every record. Again: only the victim's records after its last checkpoint, each by a survivor.
            var counts = processed.GroupBy(p => (p.ShardId, p.SequenceNumber)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var (shard, sequences) in written)
            {
                Assert.All(sequences, s => Assert.True(counts.ContainsKey((shard, s)), $"{shard}/{s} was never processed"));
            }

            var twice = counts.Where(c => c.Value.Count > 1).ToList();
            foreach (var ((shard, sequence), by) in twice)
            {
                Assert.True(victimShards.Contains(shard), $"{shard}/{sequence} was processed {by.Count} times ({string.Join(", ", by.Select(b => b.Member))}), but {victim} never held {shard}");
                Assert.True(StreamOps.CompareSequenceNumbers(sequence, checkpointAtKill[shard]) > 0, $"{shard}/{sequence} was processed again though {victim} had checkpointed {checkpointAtKill[shard]}");
                Assert.Equal(2, by.Count);
                Assert.Equal(victim, by[0].Member);
                Assert.NotEqual(victim, by[1].Member);
            }

            var victimsUncheckpointed = processed.Where(p => p.Member == victim && StreamOps.CompareSequenceNumbers(p.SequenceNumber, checkpointAtKill[p.ShardId]) > 0).Select(p => (p.ShardId, p.SequenceNumber)).ToHashSet();
            Assert.Equal(victimsUncheckpointed.Order(), twice.Select(t => t.Key).Order());
            _timeline.Log($"{counts.Count} records processed, {twice.Count} twice: exactly the {victimsUncheckpointed.Count} {victim} processed after its last checkpoints");
            Assert.Equal(3 * 10, twice.Count);

            // The graceful stop checkpointed every shard at its last record and left the group.
            var final = await admin.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = Stream, GroupName = Group });
            Assert.All(final.Checkpoints, c => Assert.Equal(written[c.ShardId][^1], c.SequenceNumber));
            Assert.Empty(final.Members);
        }
        catch (Exception ex)
        {
            fixture.Failed = true;
            throw await ClusterRun.FailureAsync(ex, $"consumers: {string.Join(", ", consumers.Select(c => $"{c.Key} {c.Value.GetStatus()}"))}", _timeline.Lines, cluster);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var consumer in consumers.Values)
            {
                await consumer.DisposeAsync();
            }

            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_consumer_cut_off_from_the_cluster_stops_on_its_own_and_its_late_checkpoint_is_refused()
    {
        const string Stream = "consumer-group-zombie";
        const string Group = "audit";
        var cluster = fixture.Cluster;
        var processed = new ConcurrentQueue<(string Member, ConsumedRecord Record)>();
        using var stop = new CancellationTokenSource();
        using var loggers = _timeline.LoggerFactory();
        using var admin = NewClient(null);
        await using var proxy = new ConsumerGroupProxy(cluster.Nodes[0].GrpcAddress);

        // The zombie reaches the cluster only through the proxy; it checkpoints only when asked (never, here).
        using var zombieClient = NewClient(loggers, [proxy.Address], routeToShardLeaders: false);
        using var healthyClient = NewClient(loggers);
        await using var zombie = new Consumer(zombieClient, Options(Stream, Group, "zombie", TimeSpan.Zero));
        await using var healthy = new Consumer(healthyClient, Options(Stream, Group, "healthy", TimeSpan.FromMilliseconds(200)));
        try
        {
            await StreamOps.CreateStreamAsync(cluster, cluster.Nodes[0], Stream, 2, replicationFactor: 3);
            var shards = (await StreamOps.ListShardsAsync(cluster.Nodes[0], Stream)).OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            var zombieRun = zombie.RunAsync((record, _) => { processed.Enqueue(("zombie", record)); return ValueTask.CompletedTask; }, stop.Token);
            await WaitUntilAsync(() => zombie.GetStatus().Shards.Count == 2, _progressTimeout, "the zombie did not lease both shards");
            var healthyRun = healthy.RunAsync((record, _) => { processed.Enqueue(("healthy", record)); return ValueTask.CompletedTask; }, stop.Token);
            await WaitUntilAsync(() => zombie.GetStatus().Shards.Count == 1 && healthy.GetStatus().Shards.Count == 1, _progressTimeout, "the two consumers did not settle on a shard each");
            var zombieShard = zombie.GetStatus().Shards.Single().ShardId;
            _timeline.Log($"zombie holds {Short(zombieShard)}, healthy the other");

            foreach (var shard in shards)
            {
                await WriteToShardAsync(admin, Stream, shard, 10, "before");
            }

            await WaitUntilAsync(() => processed.Count(p => p.Member == "zombie") >= 10 && processed.Count(p => p.Member == "healthy") >= 10, _progressTimeout, "the first records were not processed");
            var late = processed.Last(p => p.Member == "zombie").Record;

            // Cut the zombie off: within the session timeout it stops its reader on its own, and the shard moves.
            var cutAt = _timeline.Elapsed;
            proxy.Partition();
            _timeline.Log("zombie cut off");
            await WaitUntilAsync(() => zombie.GetStatus().Shards.Count == 0, _session + TimeSpan.FromSeconds(2), "the zombie kept its shard after the session timeout");
            var fencedAfter = _timeline.Elapsed - cutAt;
            Assert.False(zombie.GetStatus().IsMember);
            await WaitUntilAsync(() => healthy.GetStatus().Shards.Count == 2, _handoverBound + TimeSpan.FromSeconds(2), "the healthy consumer did not take the zombie's shard");
            var movedAfter = _timeline.Elapsed - cutAt;
            _timeline.Log($"zombie stopped reading after {fencedAfter.TotalMilliseconds:F0} ms; healthy took its shard after {movedAfter.TotalMilliseconds:F0} ms");
            Assert.True(fencedAfter < movedAfter, $"the zombie stopped reading {fencedAfter.TotalMilliseconds:F0} ms after the cut, not before its shard moved ({movedAfter.TotalMilliseconds:F0} ms)");

            var zombieShardRecord = shards.Single(s => s.ShardId == zombieShard);
            var after = await WriteToShardAsync(admin, Stream, zombieShardRecord, 5, "after");
            await WaitUntilAsync(() => after.All(s => processed.Any(p => p.Member == "healthy" && p.Record.SequenceNumber == s)), _progressTimeout, "the healthy consumer did not process the records written after the move");
            Assert.DoesNotContain(processed, p => p.Member == "zombie" && after.Contains(p.Record.SequenceNumber));

            // Back on the network, the zombie's checkpoint of what it processed before is refused.
            proxy.Heal();
            _timeline.Log("zombie reconnected");
            var refused = await Assert.ThrowsAsync<StreamsException>(() => zombie.CheckpointAsync(late));
            _timeline.Log($"zombie's checkpoint refused: {refused.Message}");
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Equal(StreamsErrors.LeaseLost, refused.ErrorCode);
            await WaitUntilAsync(async () => (await CheckpointsAsync(admin, Stream, Group)).Single(c => c.ShardId == zombieShard).SequenceNumber == after[^1], _progressTimeout, "the healthy consumer's checkpoint of the moved shard did not come");

            // It joins again and gets a share again.
            await WaitUntilAsync(() => zombie.GetStatus().Shards.Count == 1 && healthy.GetStatus().Shards.Count == 1, _progressTimeout, "the zombie did not rejoin with a shard");
            await stop.CancelAsync();
            await Task.WhenAll(zombieRun, healthyRun);
        }
        catch (Exception ex)
        {
            fixture.Failed = true;
            throw await ClusterRun.FailureAsync(ex, $"zombie {zombie.GetStatus()}; healthy {healthy.GetStatus()}", _timeline.Lines, cluster);
        }
    }

    private StreamsClient NewClient(ILoggerFactory? loggers, IReadOnlyList<Uri>? endpoints = null, bool routeToShardLeaders = true) => new(new StreamsClientOptions
    {
        Endpoints = endpoints ?? [.. fixture.Cluster.Nodes.Select(n => n.GrpcAddress)],
        RouteToShardLeaders = routeToShardLeaders,
        RequestTimeout = TimeSpan.FromSeconds(10),
        LoggerFactory = loggers,
    });

    private static ConsumerOptions Options(string stream, string group, string member, TimeSpan interval) => new()
    {
        StreamName = stream,
        GroupName = group,
        MemberId = member,
        SessionTimeout = _session,
        IdleDelay = TimeSpan.FromMilliseconds(50),
        CheckpointInterval = interval,
        ShutdownTimeout = TimeSpan.FromSeconds(5),
    };

    private static HashSet<string> Owned(IEnumerable<Consumer> consumers)
    {
        var all = consumers.SelectMany(c => c.GetStatus().Shards.Select(s => s.ShardId)).ToList();
        var distinct = all.ToHashSet(StringComparer.Ordinal);
        return distinct.Count == all.Count ? distinct : [];
    }

    private static bool AllProcessed(Dictionary<string, List<string>> written, IEnumerable<(string Member, string ShardId, string SequenceNumber)> processed)
    {
        var seen = processed.Select(p => (p.ShardId, p.SequenceNumber)).ToHashSet();
        return written.All(w => w.Value.All(s => seen.Contains((w.Key, s))));
    }

    private static async Task<List<ShardCheckpoint>> CheckpointsAsync(StreamsClient client, string stream, string group) =>
        [.. (await client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = group })).Checkpoints];

    private static async Task<Dictionary<string, string>> GroupOwnersAsync(StreamsClient client, string stream, string group) =>
        (await CheckpointsAsync(client, stream, group)).Where(c => c.Owner.Length > 0).ToDictionary(c => c.ShardId, c => c.Owner);

    // Every record with the shard's first hash key as its explicit hash key: they all land in that shard, in order.
    private static async Task<List<string>> WriteToShardAsync(StreamsClient client, string stream, Shard shard, int count, string prefix)
    {
        var request = new PutRecordsRequest { StreamName = stream };
        for (var i = 0; i < count; i++)
        {
            request.Records.Add(new PutRecordsRequestEntry
            {
                PartitionKey = $"{prefix}-{i.ToString(CultureInfo.InvariantCulture)}",
                ExplicitHashKey = shard.HashKeyRange.StartingHashKey,
                Data = ByteString.CopyFromUtf8($"{shard.ShardId}-{prefix}-{i.ToString(CultureInfo.InvariantCulture)}"),
            });
        }

        var response = await client.PutRecordsAsync(request);
        Assert.Equal(0, response.FailedRecordCount);
        Assert.All(response.Records, r => Assert.Equal(shard.ShardId, r.ShardId));
        return [.. response.Records.Select(r => r.SequenceNumber)];
    }

    private static string Short(string shardId) => shardId[^2..];

    private Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    private async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = _timeline.Elapsed + timeout;
        while (!await condition())
        {
            if (_timeline.Elapsed > deadline)
            {
                throw new TimeoutException($"{what} within {timeout.TotalSeconds:F1} s.");
            }

            await Task.Delay(25);
        }
    }
}
