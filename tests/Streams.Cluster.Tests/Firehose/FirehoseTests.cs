using System.Text.RegularExpressions;
using Streams.Client.Producing;
using Streams.V1;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>
/// Firehose delivery on three node processes into s3rver, read back with the AWS CLI and boto3: a
/// 4-shard stream replicated 3 times, a delivery stream with 1 s buffering. Every record the
/// producer had acknowledged must be in exactly one object, in shard order, byte for byte, under a
/// key naming the object's first and last records and its first record's arrival hour, also when
/// the node uploading an object is SIGKILLed halfway through the upload (the next worker writes the
/// same object again) and when S3 is down for a while (uploads are retried, never dropped).
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed partial class FirehoseTests(ITestOutputHelper output)
{
    private const string Stream = "orders";
    private const string Delivery = "orders-to-s3";
    private const string Prefix = "orders/";

    private static readonly TimeSpan _deliveryTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan _progressTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_record_is_delivered_once_in_shard_order_under_keys_naming_its_object_s_first_and_last_records()
    {
        var seed = TestSeed.FromEnvironment("STREAMS_FIREHOSE_SEED");
        var timeline = new TestTimeline(output);
        timeline.Log($"seed {seed} (rerun with STREAMS_FIREHOSE_SEED={seed})");
        await using var cluster = await FirehoseCluster.StartAsync("exactly-once", timeline);
        var feed = new RecordFeed(seed);
        try
        {
            var shards = await cluster.CreateStreamAsync(Stream, 4);
            await cluster.CreateDeliveryStreamAsync(Delivery, Stream, FirehoseCluster.S3Destination(cluster.S3.Endpoint, Prefix, Compression.Gzip, intervalSeconds: 1));

            // 4,000 records in bursts of 250 spread over several seconds: objects cut by time and by size.
            await using (var producer = NewProducer(cluster))
            {
                for (var burst = 0; burst < 16; burst++)
                {
                    await feed.PutAsync(producer, 250);
                    await Task.Delay(400);
                }
            }

            Assert.Empty(feed.Failures);
            Assert.Equal(4_000, feed.AckedCount);
            timeline.Log($"{feed.AckedCount} records acknowledged ({feed.Acked.Sum(r => r.Data.Length):N0} bytes)");
            await cluster.WaitUntilDeliveredAsync(Stream, Delivery, feed.LastAckedByShard(), _deliveryTimeout);
            var description = await WaitForDescribeAsync(cluster, timeline, d => d.RecordsDelivered >= feed.AckedCount, "Describe did not count every record delivered");

            var objects = await ReadAndVerifyAsync(cluster, timeline, shards, feed, gzip: true);
            Assert.Contains(objects.Objects.GroupBy(o => o.ShardId), g => g.Count() >= 2);

            // The figures match what is in the bucket; nothing failed, nothing waits.
            Assert.Equal(feed.AckedCount, description.RecordsDelivered);
            Assert.Equal(objects.Objects.Count, description.ObjectsDelivered);
            Assert.Equal(objects.TotalBytes, description.BytesDelivered);
            Assert.Equal(0, description.UploadFailures);
            Assert.Equal(0, description.RecordsFailed);
            var last = feed.LastAckedByShard();
            Assert.All(description.Shards, s => Assert.Equal((last[s.ShardId], ""), (s.DeliveredSequenceNumber, s.PendingSequenceNumber)));
        }
        catch (Exception ex)
        {
            throw await cluster.FailureAsync(ex, $"seed {seed}; {feed.Sent} sent, {feed.AckedCount} acknowledged");
        }
    }

    [Fact]
    public async Task An_object_whose_uploader_is_killed_halfway_is_written_again_whole_under_the_same_key_by_the_next_worker()
    {
        var seed = TestSeed.FromEnvironment("STREAMS_FIREHOSE_SEED");
        var timeline = new TestTimeline(output);
        timeline.Log($"seed {seed} (rerun with STREAMS_FIREHOSE_SEED={seed})");
        await using var cluster = await FirehoseCluster.StartAsync("kill-uploader", timeline);
        await using var proxy = new S3Proxy(cluster.S3.Endpoint, timeline.Clock, timeline.Log);
        var feed = new RecordFeed(seed);
        using var stopFeed = new CancellationTokenSource();
        Task feeding = Task.CompletedTask;
        var header = $"seed {seed}";
        try
        {
            var shards = await cluster.CreateStreamAsync(Stream, 4);
            await cluster.CreateDeliveryStreamAsync(Delivery, Stream, FirehoseCluster.S3Destination(proxy.Endpoint, Prefix, Compression.None, intervalSeconds: 1));
            var producer = NewProducer(cluster);
            await using var disposeProducer = producer;
            feeding = feed.RunAsync(producer, 300, stopFeed.Token);
            await WaitForDescribeAsync(cluster, timeline, d => d.ObjectsDelivered >= 4, "no 4 objects were delivered");

            // Hold the next object's upload halfway; find its worker through the group's lease.
            var held = await proxy.HoldNextPut(Prefix).WaitAsync(_progressTimeout);
            var (shardId, last) = KeyParts(held.Key);
            var checkpoint = await WaitForCheckpointAsync(cluster, shardId, c => c.PendingSequenceNumber == last, $"the group did not show {shardId}'s pending checkpoint at {last}, the held object's last record, while it was uploaded");
            var victim = cluster.Node(checkpoint.Owner[..checkpoint.Owner.IndexOf(':', StringComparison.Ordinal)]);
            header += $"; held {held.Key} from {victim.Id}";
            timeline.Log($"{shardId} is delivered by {checkpoint.Owner} (epoch {checkpoint.LeaseEpoch}); its pending checkpoint is the held object's last record {FirehoseCluster.Tail(last)}");

            await victim.KillAsync();
            timeline.Log($"SIGKILL {victim.Id} in the middle of uploading {held.Key}");
            proxy.DropHeld();
            var droppedAt = timeline.Elapsed;

            // The session lapses (3 s), another node's worker takes the shard and writes the pending object first.
            await Task.Delay(FirehoseCluster.SessionTimeout + TimeSpan.FromSeconds(4));
            await stopFeed.CancelAsync();
            await feeding;
            Assert.Empty(feed.Failures);
            timeline.Log($"{feed.AckedCount} records acknowledged");
            await cluster.WaitUntilDeliveredAsync(Stream, Delivery, feed.LastAckedByShard(), _deliveryTimeout);

            var rewrites = proxy.Puts.Where(p => p.Key == held.Key && p.Whole && p.Connection != held.Connection && p.At > droppedAt).ToList();
            Assert.True(rewrites.Count >= 1, $"nobody uploaded {held.Key} again after the drop; PUTs of it: {string.Join(", ", proxy.Puts.Where(p => p.Key == held.Key))}");
            timeline.Log($"{held.Key} uploaded again {rewrites[0].At.TotalSeconds - droppedAt.TotalSeconds:F1} s after the drop ({held.ContentLength} bytes both times: {rewrites[0].ContentLength == held.ContentLength})");
            Assert.Equal(held.ContentLength, rewrites[0].ContentLength);

            var description = await WaitForDescribeAsync(cluster, timeline, d => d.Shards.All(s => s.PendingSequenceNumber.Length == 0 && s.Worker.Length > 0), "Describe still showed a pending object or a shard without a worker");
            var shard = description.Shards.Single(s => s.ShardId == shardId);
            Assert.Equal("", shard.PendingSequenceNumber);
            Assert.NotEqual(victim.Id, shard.Worker);
            Assert.DoesNotContain(description.Shards, s => s.Worker == victim.Id);

            // Figures the killed node had not reported yet are lost with it: never more than the records.
            Assert.InRange(description.RecordsDelivered, 1, feed.AckedCount);

            var objects = await ReadAndVerifyAsync(cluster, timeline, shards, feed, gzip: false);
            Assert.Contains(objects.Objects, o => o.Key == held.Key);
        }
        catch (Exception ex)
        {
            await stopFeed.CancelAsync();
            throw await cluster.FailureAsync(ex, $"{header}; {feed.Sent} sent, {feed.AckedCount} acknowledged; proxy PUTs: {string.Join(", ", proxy.Puts.TakeLast(20))}");
        }
        finally
        {
            await stopFeed.CancelAsync();
            await feeding.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    [Fact]
    public async Task Uploads_while_S3_is_down_are_retried_until_it_is_back_and_every_record_still_lands_once()
    {
        var seed = TestSeed.FromEnvironment("STREAMS_FIREHOSE_SEED");
        var timeline = new TestTimeline(output);
        timeline.Log($"seed {seed} (rerun with STREAMS_FIREHOSE_SEED={seed})");
        await using var cluster = await FirehoseCluster.StartAsync("s3-down", timeline);
        var feed = new RecordFeed(seed);
        using var stopFeed = new CancellationTokenSource();
        Task feeding = Task.CompletedTask;
        try
        {
            var shards = await cluster.CreateStreamAsync(Stream, 4);
            await cluster.CreateDeliveryStreamAsync(Delivery, Stream, FirehoseCluster.S3Destination(cluster.S3.Endpoint, Prefix, Compression.Gzip, intervalSeconds: 2));
            var producer = NewProducer(cluster);
            await using var disposeProducer = producer;
            feeding = feed.RunAsync(producer, 300, stopFeed.Token);
            await WaitForDescribeAsync(cluster, timeline, d => d.ObjectsDelivered >= 4, "no 4 objects were delivered");

            await cluster.S3.StopAsync();
            timeline.Log($"s3rver killed; {feed.AckedCount} records acknowledged so far");
            await Task.Delay(TimeSpan.FromSeconds(8));
            var during = await cluster.DescribeAsync(Delivery);
            timeline.Log($"after 8 s down: {during.UploadFailures} upload failures, lag {during.LagMillis} ms / {during.LagRecords} records");
            await cluster.S3.StartAsync();
            timeline.Log("s3rver started again (same port and directory)");

            await Task.Delay(TimeSpan.FromSeconds(3));
            await stopFeed.CancelAsync();
            await feeding;
            Assert.Empty(feed.Failures);
            timeline.Log($"{feed.AckedCount} records acknowledged");
            await cluster.WaitUntilDeliveredAsync(Stream, Delivery, feed.LastAckedByShard(), _deliveryTimeout);
            var description = await WaitForDescribeAsync(cluster, timeline, d => d.RecordsDelivered >= feed.AckedCount, "Describe did not count every record delivered");

            Assert.True(description.UploadFailures > 0, $"Describe counts no failed upload: {description}");
            var failed = description.Shards.Where(s => s.LastError.Length > 0).ToList();
            Assert.NotEmpty(failed);
            timeline.Log($"{description.UploadFailures} failed uploads; last errors: {string.Join(" | ", failed.Select(s => $"{s.ShardId}: {s.LastError}"))}");
            Assert.All(failed, s => Assert.NotNull(s.LastErrorAt));

            var objects = await ReadAndVerifyAsync(cluster, timeline, shards, feed, gzip: true);
            Assert.Equal(feed.AckedCount, description.RecordsDelivered);
            Assert.Equal(objects.Objects.Count, description.ObjectsDelivered);
            Assert.Equal(objects.TotalBytes, description.BytesDelivered);
            Assert.All(description.Shards, s => Assert.Equal("", s.PendingSequenceNumber));
        }
        catch (Exception ex)
        {
            await stopFeed.CancelAsync();
            throw await cluster.FailureAsync(ex, $"seed {seed}; {feed.Sent} sent, {feed.AckedCount} acknowledged");
        }
        finally
        {
            await stopFeed.CancelAsync();
            await feeding.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static Producer NewProducer(FirehoseCluster cluster) => new(cluster.Client, new ProducerOptions
    {
        StreamName = Stream,
        DisposeTimeout = TimeSpan.FromSeconds(30),
    });

    // Lists and reads the bucket, reads the stream, and checks the one against the other.
    private static async Task<DeliveredObjects> ReadAndVerifyAsync(FirehoseCluster cluster, TestTimeline timeline, IEnumerable<Shard> shards, RecordFeed feed, bool gzip)
    {
        var objects = await DeliveredObjects.ReadAsync(cluster, Prefix, Delivery, gzip);
        timeline.Log(objects.Summary());
        var stream = await cluster.ReadStreamAsync(Stream, shards);
        Assert.Equal(feed.AckedCount, stream.Values.Sum(r => r.Count));
        var problems = objects.Verify(stream, feed.Acked);
        if (problems.Count > 0)
        {
            throw new XunitException($"{problems.Count} problem(s) with the delivered objects ({objects.Summary()}):\n  {string.Join("\n  ", problems.Take(40))}");
        }

        timeline.Log($"every one of the {feed.AckedCount} records is in exactly one object, in shard order, byte for byte");
        return objects;
    }

    private static async Task<DeliveryStreamDescription> WaitForDescribeAsync(FirehoseCluster cluster, TestTimeline timeline, Func<DeliveryStreamDescription, bool> condition, string what)
    {
        var deadline = timeline.Elapsed + _progressTimeout;
        while (true)
        {
            var description = await cluster.DescribeAsync(Delivery);
            if (condition(description))
            {
                timeline.Log($"Describe: {description.ObjectsDelivered} objects, {description.RecordsDelivered} records, {description.BytesDelivered} bytes, {description.UploadFailures} failed uploads; workers {string.Join(", ", description.Shards.Select(s => $"{s.ShardId[^2..]}={s.Worker}"))}");
                return description;
            }

            if (timeline.Elapsed > deadline)
            {
                throw new TimeoutException($"{what} within {_progressTimeout.TotalSeconds:F0} s: {description}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<ShardCheckpoint> WaitForCheckpointAsync(FirehoseCluster cluster, string shardId, Func<ShardCheckpoint, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            var checkpoint = (await cluster.CheckpointsAsync(Stream, Delivery)).Single(c => c.ShardId == shardId);
            if (condition(checkpoint))
            {
                return checkpoint;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: {checkpoint}");
            }

            await Task.Delay(50);
        }
    }

    private static (string ShardId, string LastSequence) KeyParts(string key)
    {
        var match = KeyPattern().Match(key);
        Assert.True(match.Success, $"the held key {key} does not name a shard and sequence numbers");
        return (match.Groups["shard"].Value, match.Groups["last"].Value);
    }

    [GeneratedRegex(@"-(?<shard>shardId-\d{12})-(?<first>\d+)-(?<last>\d+)(\.gz)?$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
