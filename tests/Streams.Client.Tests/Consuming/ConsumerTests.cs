using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Streams.Client.Api;
using Streams.Client.Consuming;
using Streams.Rpc;
using Streams.V1;
using static Streams.Client.Tests.Consuming.ConsumingTestData;

namespace Streams.Client.Tests.Consuming;

/// <summary>The consumer against an in-process one-node cluster.</summary>
public sealed class ConsumerTests(ClientNode node) : IClassFixture<ClientNode>
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RunAsync_hands_every_record_over_once_in_each_shard_s_order()
    {
        var stream = await node.NewActiveStreamAsync("consume-run", 4);
        var log = new ProcessedLog();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1"));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync((record, _) => { log.Add("m1", record); return ValueTask.CompletedTask; }, stop.Token);

        var written = await WriteAsync(node.Client, stream, 200, "r");
        await WaitUntilAsync(() => log.Count >= 200, _timeout, () => $"{log.Count} of 200 processed");
        await stop.CancelAsync();
        await run;

        AssertExactlyOnceInShardOrder(written, log.Entries);
    }

    [Fact]
    public async Task ReadAllAsync_hands_every_record_over_once_in_each_shard_s_order()
    {
        var stream = await node.NewActiveStreamAsync("consume-enum", 3);
        var written = await WriteAsync(node.Client, stream, 150, "r");
        var log = new ProcessedLog();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1"));
        using var timeout = new CancellationTokenSource(_timeout);
        await foreach (var record in consumer.ReadAllAsync(timeout.Token))
        {
            log.Add("m1", record);
            if (log.Count == written.Count)
            {
                break;
            }
        }

        AssertExactlyOnceInShardOrder(written, log.Entries);
    }

    [Fact]
    public async Task RunBatchesAsync_hands_over_one_read_at_a_time_in_order()
    {
        var stream = await node.NewActiveStreamAsync("consume-batches", 1);
        var written = await WriteAsync(node.Client, stream, 50, "r");
        var batches = new ConcurrentQueue<ConsumedRecordBatch>();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1", maxRecords: 20));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunBatchesAsync((batch, _) => { batches.Enqueue(batch); return ValueTask.CompletedTask; }, stop.Token);

        await WaitUntilAsync(() => batches.Sum(b => b.Records.Count) >= 50, _timeout, () => $"{batches.Sum(b => b.Records.Count)} of 50 handed over");
        await WaitUntilAsync(() => consumer.GetStatus().Shards.Single().RecordsProcessed == 50, _timeout, () => $"status {consumer.GetStatus()}");
        await stop.CancelAsync();
        await run;

        Assert.All(batches, b => Assert.InRange(b.Records.Count, 1, 20));
        Assert.All(batches, b => Assert.Equal(written[0].ShardId, b.ShardId));
        Assert.Equal(written.Select(w => w.SequenceNumber), batches.SelectMany(b => b.Records).Select(r => r.SequenceNumber));
        Assert.Equal(written[^1].SequenceNumber, (await CheckpointOfAsync(node.Client, stream, "app", written[0].ShardId)).SequenceNumber);
    }

    [Fact]
    public async Task Checkpoints_come_every_N_records_and_at_a_graceful_stop()
    {
        var stream = await node.NewActiveStreamAsync("consume-every", 1);
        var written = await WriteAsync(node.Client, stream, 100, "r");
        var shard = written[0].ShardId;
        var log = new ProcessedLog();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1", everyRecords: 30, interval: TimeSpan.Zero));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync((record, _) => { log.Add("m1", record); return ValueTask.CompletedTask; }, stop.Token);

        await WaitUntilAsync(() => log.Count >= 100, _timeout, () => $"{log.Count} of 100 processed");
        var checkpoint = await CheckpointOfAsync(node.Client, stream, "app", shard);
        Assert.Equal(written[89].SequenceNumber, checkpoint.SequenceNumber);
        Assert.Equal("m1", checkpoint.Owner);
        Assert.Equal(written[89].SequenceNumber, consumer.GetStatus().Shards.Single().LastCheckpointedSequenceNumber);

        await stop.CancelAsync();
        await run;
        checkpoint = await CheckpointOfAsync(node.Client, stream, "app", shard);
        Assert.Equal(written[99].SequenceNumber, checkpoint.SequenceNumber);
        Assert.Equal("", checkpoint.Owner);
        var group = await node.Client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = "app" });
        Assert.Empty(group.Members);
    }

    [Fact]
    public async Task After_a_crash_the_next_member_processes_only_what_came_after_the_last_checkpoint()
    {
        var stream = await node.NewActiveStreamAsync("consume-crash", 1);
        var written = await WriteAsync(node.Client, stream, 50, "r");
        var log = new ProcessedLog();

        // The first consumer checkpoints every 20 records, processes all 50, then "crashes": its
        // client goes away under it, so there is no last checkpoint and no LeaveGroup.
        var crashingClient = node.NewClient();
        var crashing = new Consumer(crashingClient, Options(stream, "app", "crashing", everyRecords: 20, interval: TimeSpan.Zero, session: TimeSpan.FromSeconds(1)));
        var crashedRun = crashing.RunAsync((record, _) => { log.Add("crashing", record); return ValueTask.CompletedTask; });
        await WaitUntilAsync(() => log.Count >= 50, _timeout, () => $"{log.Count} of 50 processed");
        Assert.Equal(written[39].SequenceNumber, (await CheckpointOfAsync(node.Client, stream, "app", written[0].ShardId)).SequenceNumber);
        crashingClient.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => crashedRun);

        // The next member gets the shard once the crashed one's session expired, from the checkpoint.
        await using (var next = new Consumer(node.Client, Options(stream, "app", "next", session: TimeSpan.FromSeconds(1))))
        {
            using var stop = new CancellationTokenSource();
            var run = next.RunAsync((record, _) => { log.Add("next", record); return ValueTask.CompletedTask; }, stop.Token);
            await WaitUntilAsync(() => log.CountOf("next") >= 10, _timeout, () => $"the next member processed {log.CountOf("next")} of the 10 after the checkpoint");
            await Task.Delay(300);
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal(written.Skip(40).Select(w => w.Data), log.Entries.Where(e => e.Member == "next").Select(e => e.Data));

        // A graceful stop checkpointed everything: a restart processes only new records.
        var more = await WriteAsync(node.Client, stream, 5, "more");
        await using (var restarted = new Consumer(node.Client, Options(stream, "app", "restarted")))
        {
            using var stop = new CancellationTokenSource();
            var run = restarted.RunAsync((record, _) => { log.Add("restarted", record); return ValueTask.CompletedTask; }, stop.Token);
            await WaitUntilAsync(() => log.CountOf("restarted") >= 5, _timeout, () => $"{log.CountOf("restarted")} of 5 new records processed");
            await Task.Delay(300);
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal(more.Select(w => w.Data), log.Entries.Where(e => e.Member == "restarted").Select(e => e.Data));
    }

    [Fact]
    public async Task A_consumer_follows_a_split_reading_the_parent_to_its_end_before_the_children()
    {
        var stream = await node.NewActiveStreamAsync("consume-split", 1);
        var log = new ProcessedLog();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1"));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync((record, _) => { log.Add("m1", record); return ValueTask.CompletedTask; }, stop.Token);

        static string Key(int i) => $"key-{i % 10}";
        var before = await WriteAsync(node.Client, stream, 30, "before", Key);
        var parent = before[0].ShardId;
        await node.Client.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = parent, NewStartingHashKey = "170141183460469231731687303715884105728" });
        await node.Client.WaitForStreamActiveAsync(stream);
        node.Client.InvalidateShardMap(stream);
        var after = await WriteAsync(node.Client, stream, 30, "after", Key);
        Assert.All(after, w => Assert.NotEqual(parent, w.ShardId));

        await WaitUntilAsync(() => log.Count >= 60, _timeout, () => $"{log.Count} of 60 processed; status {string.Join(", ", consumer.GetStatus().Shards)}");
        await stop.CancelAsync();
        await run;

        var written = before.Concat(after).ToList();
        AssertExactlyOnceInShardOrder(written, log.Entries);
        foreach (var key in written.Select(w => w.PartitionKey).Distinct())
        {
            Assert.Equal(written.Where(w => w.PartitionKey == key).Select(w => w.Data), log.Entries.Where(e => e.PartitionKey == key).Select(e => e.Data));
        }

        var group = await node.Client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = "app" });
        Assert.True(group.Checkpoints.Single(c => c.ShardId == parent).ShardEnd);
        Assert.All(group.Checkpoints.Where(c => c.ShardId != parent), c => Assert.NotEqual("", c.SequenceNumber));
    }

    [Fact]
    public async Task Two_consumers_of_a_group_share_the_shards_and_each_record_is_processed_once()
    {
        var stream = await node.NewActiveStreamAsync("consume-share", 4);
        var log = new ProcessedLog();
        using var stop = new CancellationTokenSource();
        await using var first = new Consumer(node.Client, Options(stream, "app", "first"));
        await using var second = new Consumer(node.Client, Options(stream, "app", "second"));
        var firstRun = first.RunAsync((record, _) => { log.Add("first", record); return ValueTask.CompletedTask; }, stop.Token);
        await WaitUntilAsync(() => first.GetStatus().Shards.Count == 4, _timeout, () => $"first holds {first.GetStatus().Shards.Count} shards");
        var secondRun = second.RunAsync((record, _) => { log.Add("second", record); return ValueTask.CompletedTask; }, stop.Token);
        await WaitUntilAsync(() => first.GetStatus().Shards.Count == 2 && second.GetStatus().Shards.Count == 2, _timeout,
            () => $"first holds {first.GetStatus().Shards.Count}, second {second.GetStatus().Shards.Count}");

        var firstShards = first.GetStatus().Shards.Select(s => s.ShardId).ToHashSet();
        var secondShards = second.GetStatus().Shards.Select(s => s.ShardId).ToHashSet();
        Assert.Empty(firstShards.Intersect(secondShards));

        var written = await WriteAsync(node.Client, stream, 200, "r");
        await WaitUntilAsync(() => log.Count >= 200, _timeout, () => $"{log.Count} of 200 processed");
        await stop.CancelAsync();
        await Task.WhenAll(firstRun, secondRun);

        AssertExactlyOnceInShardOrder(written, log.Entries);
        Assert.All(log.Entries, e => Assert.Contains(e.ShardId, e.Member == "first" ? firstShards : secondShards));
        Assert.True(log.CountOf("first") > 0 && log.CountOf("second") > 0);
    }

    [Fact]
    public async Task Lag_is_reported_per_shard_in_the_status_and_as_metrics()
    {
        var stream = await node.NewActiveStreamAsync("consume-lag", 1);
        var recordsCounted = 0L;
        var lagMeasurements = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StreamsClient.MeterName && instrument.Name.StartsWith("streams.client.consumer.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (!tags.ToArray().Any(t => t.Key == "stream" && (string?)t.Value == stream))
            {
                return;
            }

            if (instrument.Name == "streams.client.consumer.records")
            {
                Interlocked.Add(ref recordsCounted, value);
            }
            else
            {
                lock (lagMeasurements)
                {
                    lagMeasurements.Add(value);
                }
            }
        });
        listener.Start();

        // Two writes 300 ms apart, read 10 at a time: the first read is about 300 ms behind.
        var written = await WriteAsync(node.Client, stream, 10, "early");
        await Task.Delay(300);
        written.AddRange(await WriteAsync(node.Client, stream, 10, "late"));

        using var release = new SemaphoreSlim(0);
        var log = new ProcessedLog();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1", maxRecords: 10));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync(async (record, ct) =>
        {
            if (log.Count == 0)
            {
                await release.WaitAsync(ct);
            }

            log.Add("m1", record);
        }, stop.Token);

        await WaitUntilAsync(() => consumer.GetStatus().MillisBehindLatest > 0, _timeout, () => $"status {consumer.GetStatus()}");
        var behind = consumer.GetStatus().Shards.Single();
        Assert.InRange(behind.MillisBehindLatest, 200, 10_000);
        release.Release();
        await WaitUntilAsync(() => log.Count >= 20, _timeout, () => $"{log.Count} of 20 processed");
        await WaitUntilAsync(() => consumer.GetStatus().MillisBehindLatest == 0, _timeout, () => $"status {consumer.GetStatus()}");
        var caughtUp = consumer.GetStatus().Shards.Single();
        Assert.Equal(written[^1].SequenceNumber, caughtUp.LastProcessedSequenceNumber);
        Assert.Equal(20, caughtUp.RecordsProcessed);
        await stop.CancelAsync();
        await run;

        listener.RecordObservableInstruments();
        Assert.Equal(20, Interlocked.Read(ref recordsCounted));
        lock (lagMeasurements)
        {
            Assert.Contains(lagMeasurements, v => v >= 200);
            Assert.Contains(0L, lagMeasurements);
        }
    }

    [Fact]
    public async Task With_manual_checkpoints_only_the_application_checkpoints()
    {
        var stream = await node.NewActiveStreamAsync("consume-manual", 1);
        var written = await WriteAsync(node.Client, stream, 10, "r");
        var shard = written[0].ShardId;
        var options = Options(stream, "app", "m1", interval: TimeSpan.Zero);
        Assert.True(options.ChecksManually);
        await using var consumer = new Consumer(node.Client, options);
        var seen = new List<ConsumedRecord>();
        using var timeout = new CancellationTokenSource(_timeout);
        await foreach (var record in consumer.ReadAllAsync(timeout.Token))
        {
            seen.Add(record);
            if (seen.Count == 5)
            {
                await consumer.CheckpointAsync(record);
            }

            if (seen.Count == 10)
            {
                Assert.Equal(written[4].SequenceNumber, (await CheckpointOfAsync(node.Client, stream, "app", shard)).SequenceNumber);
                break;
            }
        }

        // Leaving the loop stopped the consumer without a checkpoint of its own.
        var checkpoint = await CheckpointOfAsync(node.Client, stream, "app", shard);
        Assert.Equal(written[4].SequenceNumber, checkpoint.SequenceNumber);
        Assert.Equal("", checkpoint.Owner);
    }

    [Fact]
    public async Task With_manual_checkpoints_a_closed_shard_is_released_only_once_its_last_record_is_checkpointed()
    {
        var stream = await node.NewActiveStreamAsync("consume-manual-split", 1);
        var before = await WriteAsync(node.Client, stream, 5, "before");
        var parent = before[0].ShardId;
        await node.Client.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = parent, NewStartingHashKey = "170141183460469231731687303715884105728" });
        await node.Client.WaitForStreamActiveAsync(stream);
        node.Client.InvalidateShardMap(stream);
        var after = await WriteAsync(node.Client, stream, 5, "after");

        var handled = new ConcurrentQueue<ConsumedRecord>();
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1", interval: TimeSpan.Zero));
        using var stop = new CancellationTokenSource();
        var run = consumer.RunAsync((record, _) => { handled.Enqueue(record); return ValueTask.CompletedTask; }, stop.Token);

        // The parent is read to its end, but nothing is checkpointed: it stays leased, its children wait.
        await WaitUntilAsync(() => handled.Count >= 5, _timeout, () => $"{handled.Count} of the parent's 5 records handled");
        await Task.Delay(500);
        Assert.Equal(5, handled.Count);
        Assert.False((await CheckpointOfAsync(node.Client, stream, "app", parent)).ShardEnd);

        // The application's checkpoint of the last record releases it.
        await consumer.CheckpointAsync(handled.Last());
        await WaitUntilAsync(() => handled.Count >= 10, _timeout, () => $"{handled.Count} of 10 handled");
        Assert.True((await CheckpointOfAsync(node.Client, stream, "app", parent)).ShardEnd);
        Assert.Equal(after.Select(w => w.Data).Order(), handled.Skip(5).Select(r => System.Text.Encoding.UTF8.GetString(r.Data.Span)).Order());
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task ReadAllAsync_counts_a_record_processed_when_the_next_is_asked_for()
    {
        var stream = await node.NewActiveStreamAsync("consume-enum-every", 1);
        var written = await WriteAsync(node.Client, stream, 10, "r");
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1", everyRecords: 1, interval: TimeSpan.Zero));
        var count = 0;
        using var timeout = new CancellationTokenSource(_timeout);
        await foreach (var record in consumer.ReadAllAsync(timeout.Token))
        {
            count++;
            if (count == 3)
            {
                // Records 1 and 2 were processed when 2 and 3 were asked for.
                Assert.Equal(written[1].SequenceNumber, consumer.GetStatus().Shards.Single().LastCheckpointedSequenceNumber);
            }

            if (count == 10)
            {
                break;
            }
        }

        // The tenth was handed out but never followed by a request: not checkpointed.
        Assert.Equal(written[8].SequenceNumber, (await CheckpointOfAsync(node.Client, stream, "app", written[0].ShardId)).SequenceNumber);
    }

    [Fact]
    public async Task A_checkpoint_after_the_lease_moved_on_is_refused_as_LeaseLost()
    {
        var stream = await node.NewActiveStreamAsync("consume-zombie", 1);
        var written = await WriteAsync(node.Client, stream, 1, "r");
        ConsumedRecord? held = null;
        using var holding = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var log = new ProcessedLog();
        using var stop = new CancellationTokenSource();

        // The zombie takes the record and stalls on it, ignoring its token, as a paused process would.
        await using var zombie = new Consumer(node.Client, Options(stream, "app", "zombie", session: TimeSpan.FromSeconds(1)));
        var zombieRun = zombie.RunAsync(async (record, _) =>
        {
            held = record;
            holding.Release();
            await release.WaitAsync(CancellationToken.None);
        }, stop.Token);
        Assert.True(await holding.WaitAsync(_timeout));

        await using var other = new Consumer(node.Client, Options(stream, "app", "other", session: TimeSpan.FromSeconds(1)));
        var otherRun = other.RunAsync((record, _) => { log.Add("other", record); return ValueTask.CompletedTask; }, stop.Token);
        await WaitUntilAsync(() => other.GetStatus().IsMember, _timeout, () => "the other consumer did not join");

        // The server drops the zombie (as after a session timeout); the shard moves to the other member.
        await node.Client.LeaveGroupAsync(new LeaveGroupRequest { StreamName = stream, GroupName = "app", MemberId = "zombie" });
        await WaitUntilAsync(() => log.Count >= 1, _timeout, () => "the other member did not take the shard over");

        var refused = await Assert.ThrowsAsync<StreamsException>(() => zombie.CheckpointAsync(held!));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal(StreamsErrors.LeaseLost, refused.ErrorCode);
        Assert.Empty(zombie.GetStatus().Shards);

        release.Release();
        await stop.CancelAsync();
        await Task.WhenAll(zombieRun, otherRun);
        var checkpoint = await CheckpointOfAsync(node.Client, stream, "app", written[0].ShardId);
        Assert.Equal(written[0].SequenceNumber, checkpoint.SequenceNumber);
    }

    [Fact]
    public async Task A_handler_failure_stops_the_consumer_after_checkpointing_what_was_processed()
    {
        var stream = await node.NewActiveStreamAsync("consume-fail", 1);
        var written = await WriteAsync(node.Client, stream, 10, "r");
        var count = 0;
        await using var consumer = new Consumer(node.Client, Options(stream, "app", "m1"));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.RunAsync((record, _) =>
        {
            if (++count == 5)
            {
                throw new InvalidOperationException("poison record");
            }

            return ValueTask.CompletedTask;
        }));
        Assert.Equal("poison record", failure.Message);

        var group = await node.Client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = "app" });
        Assert.Equal(written[3].SequenceNumber, group.Checkpoints.Single().SequenceNumber);
        Assert.Empty(group.Members);
    }

    [Fact]
    public async Task A_missing_stream_is_thrown_and_a_consumer_runs_only_once()
    {
        await using var consumer = new Consumer(node.Client, Options("no-such-stream", "app", "m1"));
        var missing = await Assert.ThrowsAsync<StreamsException>(() => consumer.RunAsync((_, _) => ValueTask.CompletedTask));
        Assert.Equal(StreamsErrors.ResourceNotFound, missing.ErrorCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.RunAsync((_, _) => ValueTask.CompletedTask));
    }

    private static void AssertExactlyOnceInShardOrder(IReadOnlyList<WrittenRecord> written, IReadOnlyList<ProcessedRecord> processed)
    {
        var duplicates = processed.GroupBy(p => (p.ShardId, p.SequenceNumber)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"processed twice: {string.Join(", ", duplicates)}");
        Assert.Equal(written.Select(w => (w.ShardId, w.SequenceNumber, w.Data)).Order(), processed.Select(p => (p.ShardId, p.SequenceNumber, p.Data)).Order());
        foreach (var shard in processed.GroupBy(p => p.ShardId))
        {
            var sequence = shard.Select(p => p.SequenceNumber).ToList();
            Assert.Equal(sequence.OrderBy(s => s.Length).ThenBy(s => s, StringComparer.Ordinal), sequence);
        }
    }
}
