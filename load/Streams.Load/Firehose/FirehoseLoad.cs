using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Amazon.S3;
using Google.Protobuf;
using Streams.Client;
using Streams.Load.ClusterBench;
using Streams.Rpc;
using Streams.Server.Tests.Firehose;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.Firehose;

/// <summary>One steady run: puts at a fixed rate for a while, delivered into the bucket.</summary>
/// <param name="Nodes">Nodes in the cluster.</param>
/// <param name="Rate">Records per second asked for.</param>
/// <param name="Put">How the puts went.</param>
/// <param name="Delivery">How delivery went.</param>
internal sealed record SteadyRun(int Nodes, int Rate, PutFigures Put, DeliveryFigures Delivery);

/// <summary>One drain run: a backlog put first, then a delivery stream created and timed until it delivered all of it.</summary>
/// <param name="Nodes">Nodes in the cluster.</param>
/// <param name="Put">How the backlog's puts went (closed loop, as fast as taken).</param>
/// <param name="Delivery">How its delivery went, timed from CreateDeliveryStream.</param>
/// <param name="FirstObjectSeconds">From CreateDeliveryStream to the first object in a listing.</param>
internal sealed record DrainRun(int Nodes, PutFigures Put, DeliveryFigures Delivery, double FirstObjectSeconds);

/// <summary>What the puts of a run did.</summary>
/// <param name="Records">Records acknowledged.</param>
/// <param name="FailedRecords">Records refused or in failed calls.</param>
/// <param name="SentPerSecond">Records sent per second (the asked rate unless the client fell behind).</param>
/// <param name="MegabytesPerSecond">Acknowledged data bytes (10^6 B) per second, first send to last answer.</param>
/// <param name="Seconds">First send to last answer.</param>
internal sealed record PutFigures(long Records, long FailedRecords, double SentPerSecond, double MegabytesPerSecond, double Seconds);

/// <summary>What delivery into the bucket did in a run.</summary>
/// <param name="Objects">Objects listed under the run's prefix.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="Seconds">The window the rates are over (steady: first put to last object listed; drain: CreateDeliveryStream to caught up).</param>
/// <param name="MegabytesPerSecond">Object bytes (10^6 B) per second of the window.</param>
/// <param name="ObjectsPerSecond">Objects per second of the window.</param>
/// <param name="CatchUpSeconds">From the last put's answer (drain: from CreateDeliveryStream) until every shard's checkpoint was its last record.</param>
/// <param name="Lag">Describe's lag_millis sampled once a second: p50, p99, max, samples.</param>
/// <param name="EndToEnd">Put (send) to the record's object first listed, ms: p50, p99, max, samples; and sampled records never listed.</param>
/// <param name="DescribeBytes">Describe's bytes_delivered at the end (a check on the listing).</param>
/// <param name="UploadFailures">Describe's upload_failures at the end.</param>
/// <param name="Cpu">CPU of the nodes and of s3rver over the run.</param>
internal sealed record DeliveryFigures(
    long Objects, long Bytes, double Seconds, double MegabytesPerSecond, double ObjectsPerSecond, double CatchUpSeconds,
    (double P50, double P99, double Max, int Samples) Lag, (double P50, double P99, double Max, int Samples, int Missing) EndToEnd,
    long DescribeBytes, long UploadFailures, (double NodesPercent, double S3Percent) Cpu);

/// <summary>
/// The firehose workloads against one cluster: each run gets a fresh stream and a fresh delivery
/// stream into its own prefix of the bucket, deleted afterwards, so runs never see each other's records.
/// </summary>
internal sealed class FirehoseLoad(FirehoseSettings settings, LocalCluster cluster, StreamsClient client, IAmazonS3 s3, S3rverProcess s3rver, Failures failures)
{
    public const string Bucket = "firehose-bench";

    /// <summary>Calls awaiting their answer at most in the open loop; beyond it the dispatcher waits (and falls behind, which shows in sent/s).</summary>
    private const int MaxOutstanding = 2_000;

    private static readonly TimeSpan _workersTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan _describeTimeout = TimeSpan.FromSeconds(8);
    private readonly LatencyMerger _merger = new();
    private readonly byte[] _pool = PrintablePool();
    private int _runs;

    public Uri S3Endpoint => s3rver.Endpoint;

    public async Task<SteadyRun> SteadyAsync(int rate, CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"fh-{cluster.Nodes.Count}n-{++_runs}-steady-{rate}");
        var source = await NewStreamAsync(name, cancellationToken).ConfigureAwait(false);
        await CreateDeliveryStreamAsync(name, cancellationToken).ConfigureAwait(false);
        await WaitForWorkersAsync(name, cancellationToken).ConfigureAwait(false);
        await using var watcher = new BucketWatcher(s3, Bucket, name + "/", settings.ListPause);
        watcher.Start();
        using var stopLag = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lag = SampleLagAsync(name, stopLag.Token);
        var cpu = CpuNow();
        var put = await PutOpenLoopAsync(name, source, rate, cancellationToken).ConfigureAwait(false);
        var (caughtUp, lags, used, seen, description) = await EndDeliveryAsync(name, put, watcher, stopLag, lag, cpu, cancellationToken).ConfigureAwait(false);

        var lastSeen = seen.Count == 0 ? put.Start : seen.Max(o => o.SeenAt);
        var window = Seconds(put.Start, lastSeen);
        var bytes = seen.Sum(o => o.Size);
        var delivery = new DeliveryFigures(
            seen.Count, bytes, window, bytes / 1e6 / window, seen.Count / window, Seconds(put.LastAnswer, caughtUp),
            Percentiles(lags), EndToEnd(put.Samples, seen), description.BytesDelivered, description.UploadFailures, used);
        return new SteadyRun(cluster.Nodes.Count, rate, put.Figures, delivery);
    }

    public async Task<DrainRun> DrainAsync(CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"fh-{cluster.Nodes.Count}n-{++_runs}-drain");
        var source = await NewStreamAsync(name, cancellationToken).ConfigureAwait(false);
        var put = await PutBacklogAsync(name, source, cancellationToken).ConfigureAwait(false);
        Session.Progress(string.Create(CultureInfo.InvariantCulture, $"backlog of {put.Figures.Records:N0} records ({put.Figures.Records * (double)settings.RecordBytes / 1e6:N0} MB) put at {put.Figures.MegabytesPerSecond:N1} MB/s; creating the delivery stream"));
        await using var watcher = new BucketWatcher(s3, Bucket, name + "/", settings.ListPause);
        watcher.Start();
        using var stopLag = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cpu = CpuNow();
        var created = Stopwatch.GetTimestamp();
        await CreateDeliveryStreamAsync(name, cancellationToken).ConfigureAwait(false);
        var lag = SampleLagAsync(name, stopLag.Token);
        var (caughtUp, lags, used, seen, description) = await EndDeliveryAsync(name, put, watcher, stopLag, lag, cpu, cancellationToken).ConfigureAwait(false);

        var window = Seconds(created, caughtUp);
        var bytes = seen.Sum(o => o.Size);
        var firstObject = seen.Count == 0 ? double.NaN : Seconds(created, seen.Min(o => o.SeenAt));
        var delivery = new DeliveryFigures(
            seen.Count, bytes, window, bytes / 1e6 / window, seen.Count / window, window,
            Percentiles(lags), (double.NaN, double.NaN, double.NaN, 0, 0), description.BytesDelivered, description.UploadFailures, used);
        return new DrainRun(cluster.Nodes.Count, put.Figures, delivery, firstObject);
    }

    // Raw objects frame each record with "\n" and send a record holding one to the error output:
    // the data is random printable ASCII (95 symbols, 6.6 bits a byte: no compression would gain much), never a newline.
    private static byte[] PrintablePool()
    {
        var pool = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(pool);
        for (var i = 0; i < pool.Length; i++)
        {
            pool[i] = (byte)(' ' + (pool[i] % 95));
        }

        return pool;
    }

    private static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;

    // Sequence numbers of a shard compare by length, then character by character.
    private static int Compare(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    // A record's data: a slice of the pool (the request does not copy it).
    private ByteString Data(Random random) =>
        UnsafeByteOperations.UnsafeWrap(_pool.AsMemory(random.Next(_pool.Length - settings.RecordBytes), settings.RecordBytes));

    private async Task<RecordSource> NewStreamAsync(string name, CancellationToken cancellationToken)
    {
        var shards = await cluster.CreateStreamAsync(name, settings.Shards, cluster.Nodes.Count, cancellationToken).ConfigureAwait(false);
        return new RecordSource(shards);
    }

    private async Task CreateDeliveryStreamAsync(string name, CancellationToken cancellationToken)
    {
        var destination = new DeliveryDestination
        {
            S3 = new S3Destination
            {
                Endpoint = s3rver.Endpoint.ToString().TrimEnd('/'),
                Bucket = Bucket,
                AccessKeyId = S3rverProcess.AccessKeyId,
                SecretAccessKey = S3rverProcess.SecretAccessKey,
            },
            Prefix = name + "/",
            BufferingHints = new BufferingHints { SizeInMbs = settings.BufferingMegabytes, IntervalInSeconds = settings.BufferingSeconds },
            Compression = Compression.None,
            RecordFormat = RecordFormat.Raw,
        };
        await client.CreateDeliveryStreamAsync(new CreateDeliveryStreamRequest { DeliveryStreamName = name, SourceStreamName = name, Destination = destination }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DeliveryStreamDescription> DescribeAsync(string name, CancellationToken cancellationToken) =>
        (await client.DescribeDeliveryStreamAsync(new DescribeDeliveryStreamRequest { DeliveryStreamName = name }, cancellationToken).ConfigureAwait(false)).DeliveryStreamDescription;

    // Every shard has a worker: the workers found the delivery stream and joined its group.
    private async Task WaitForWorkersAsync(string name, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            cluster.ThrowIfExited();
            var description = await DescribeAsync(name, cancellationToken).ConfigureAwait(false);
            if (description.Shards.Count == settings.Shards && description.Shards.All(s => s.Worker.Length > 0))
            {
                return;
            }

            if (waited.Elapsed > _workersTimeout)
            {
                throw new TimeoutException($"Delivery stream {name} had no worker on every shard {_workersTimeout.TotalSeconds:0} s after it was created: {description}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    // Polls the group until each shard's checkpoint is its last put record with nothing pending; returns when.
    // The end of a run, once its records are put: waits until they are delivered, stops sampling the
    // lag, charges the CPU, lists the bucket a last time, reads Describe's final counters, and
    // deletes the delivery stream.
    private async Task<DeliveryEnd> EndDeliveryAsync(
        string name, PutOutcome put, BucketWatcher watcher, CancellationTokenSource stopLag, Task<List<double>> lag, (TimeSpan Nodes, TimeSpan S3, long At) cpu, CancellationToken cancellationToken)
    {
        var caughtUp = await WaitUntilDeliveredAsync(name, put.LastByShard, cancellationToken).ConfigureAwait(false);
        await stopLag.CancelAsync().ConfigureAwait(false);
        var lags = await lag.ConfigureAwait(false);
        var used = CpuSince(cpu);
        await watcher.ListOnceAsync(cancellationToken).ConfigureAwait(false);
        var seen = watcher.Seen;
        var description = await FinalDescriptionAsync(name, put.Figures.Records, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        return new DeliveryEnd(caughtUp, lags, used, seen, description);
    }

    private async Task<long> WaitUntilDeliveredAsync(string name, IReadOnlyDictionary<string, string> lastByShard, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var request = new GetCheckpointsRequest { StreamName = name, GroupName = "firehose." + name };
        while (true)
        {
            cluster.ThrowIfExited();
            IReadOnlyList<ShardCheckpoint> checkpoints;
            try
            {
                checkpoints = (await client.GetCheckpointsAsync(request, cancellationToken).ConfigureAwait(false)).Checkpoints;
            }
            catch (StreamsException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                // The group exists from the first worker's JoinGroup on.
                checkpoints = [];
            }

            if (lastByShard.All(last => checkpoints.Any(c => c.ShardId == last.Key && c.SequenceNumber == last.Value && c.PendingSequenceNumber.Length == 0)))
            {
                return Stopwatch.GetTimestamp();
            }

            if (waited.Elapsed > settings.CatchUpTimeout)
            {
                throw new TimeoutException($"Delivery stream {name} did not deliver every record within {settings.CatchUpTimeout.TotalSeconds:0} s of the last put: checkpoints {string.Join("; ", checkpoints.Select(c => $"{c.ShardId} {c.SequenceNumber} pending '{c.PendingSequenceNumber}'"))}, last records {string.Join("; ", lastByShard.Select(l => $"{l.Key} {l.Value}"))}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    // Describe's counters once the workers reported every record (they report every report interval).
    private async Task<DeliveryStreamDescription> FinalDescriptionAsync(string name, long records, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var description = await DescribeAsync(name, cancellationToken).ConfigureAwait(false);
            if (description.RecordsDelivered >= records || waited.Elapsed > _describeTimeout)
            {
                if (description.RecordsDelivered != records)
                {
                    failures.Other($"Describe counted {description.RecordsDelivered} records delivered, not the {records} put");
                }

                if (description.RecordsFailed > 0)
                {
                    failures.Other($"Describe counted {description.RecordsFailed} records sent to the error output");
                }

                return description;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    // The delivery stream only: its workers stop within a scan interval. The stream stays until the
    // cluster stops (deleting it at once would fail the workers' reads before they noticed).
    private async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteDeliveryStreamAsync(new DeleteDeliveryStreamRequest { DeliveryStreamName = name }, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamsException ex)
        {
            failures.Call($"deleting {name}", ex);
        }
    }

    // Describe's lag (the largest over the shards) once a second until stopped.
    private async Task<List<double>> SampleLagAsync(string name, CancellationToken cancellationToken)
    {
        var samples = new List<double>();
        try
        {
            while (true)
            {
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                samples.Add((await DescribeAsync(name, cancellationToken).ConfigureAwait(false)).LagMillis);
            }
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or StreamsException)
        {
            return samples;
        }
    }

    /// <summary>
    /// Open loop: batch k of rate/100 records is due at start + k × 10 ms and sent then, to node
    /// k mod N, whether or not earlier batches were answered. Every n-th record is a sample of
    /// when it was sent and where it was written.
    /// </summary>
    private async Task<PutOutcome> PutOpenLoopAsync(string stream, RecordSource source, int rate, CancellationToken cancellationToken)
    {
        var batch = Math.Max(1, rate / 100);
        var interval = Stopwatch.Frequency * (double)batch / rate;
        var count = (int)Math.Max(1, Math.Round(rate * settings.Duration.TotalSeconds / batch));
        var sampleEvery = Math.Max(1, (int)(rate * settings.Duration.TotalSeconds / settings.E2eSamples));
        var outcome = new PutOutcome(Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100));
        var tasks = new Task[count];
        var outstanding = 0;
        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A thread of its own: a timer behind the thread pool's work would send late.
        var dispatcher = new Thread(() =>
        {
            try
            {
                var random = new Random(rate);
                for (var k = 0; k < count; k++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var due = outcome.Start + (long)(k * interval);
                    while (Stopwatch.GetTimestamp() < due || Volatile.Read(ref outstanding) >= MaxOutstanding)
                    {
                        Thread.Sleep(1);
                    }

                    var request = new PutRecordsRequest { StreamName = stream };
                    for (var i = 0; i < batch; i++)
                    {
                        request.Records.Add(new PutRecordsRequestEntry { PartitionKey = source.AnyKey(random), Data = Data(random) });
                    }

                    Interlocked.Increment(ref outstanding);
                    var first = (long)k * batch;
                    tasks[k] = SendAsync(cluster.Clients[k % cluster.Clients.Count], request, outcome, first, sampleEvery, cancellationToken)
                        .ContinueWith(_ => Interlocked.Decrement(ref outstanding), TaskScheduler.Default);
                    outcome.Sent += batch;
                }

                dispatched.SetResult();
            }
            catch (Exception ex)
            {
                dispatched.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "firehose open-loop dispatcher",
        };
        dispatcher.Start();
        await dispatched.Task.ConfigureAwait(false);
        var lastDispatch = Stopwatch.GetTimestamp();
        await Task.WhenAll(tasks).WaitAsync(settings.CallDeadline + TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        outcome.Finish(settings.RecordBytes, lastDispatch, outcome.Sent - batch);
        return outcome;
    }

    /// <summary>Closed loop: callers each send batches back to back until the backlog's bytes are put.</summary>
    private async Task<PutOutcome> PutBacklogAsync(string stream, RecordSource source, CancellationToken cancellationToken)
    {
        var target = (long)settings.DrainMegabytes * 1_000_000;
        var batchBytes = (long)settings.DrainBatchRecords * settings.RecordBytes;
        long claimed = 0;
        var outcome = new PutOutcome(Stopwatch.GetTimestamp());
        var callers = Enumerable.Range(0, settings.DrainCallers).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var request = new PutRecordsRequest { StreamName = stream };
            for (var i = 0; i < settings.DrainBatchRecords; i++)
            {
                request.Records.Add(new PutRecordsRequestEntry { PartitionKey = source.AnyKey(random), Data = Data(random) });
            }

            var node = cluster.Clients[c % cluster.Clients.Count];
            while (Interlocked.Add(ref claimed, batchBytes) - batchBytes < target)
            {
                Interlocked.Add(ref outcome.Sent, settings.DrainBatchRecords);
                await SendAsync(node, request, outcome, -1, int.MaxValue, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(callers).ConfigureAwait(false);
        outcome.Finish(settings.RecordBytes, Stopwatch.GetTimestamp(), Interlocked.Read(ref outcome.Sent));
        return outcome;
    }

    private async Task SendAsync(Streams.Client.Api.StreamsApiClient node, PutRecordsRequest request, PutOutcome outcome, long first, int sampleEvery, CancellationToken cancellationToken)
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            using var call = node.PutRecordsAsync(request, new CallOptions { Deadline = DateTimeOffset.UtcNow + settings.CallDeadline, CancellationToken = cancellationToken });
            var response = await call.ResponseAsync.ConfigureAwait(false);
            outcome.Answered(Stopwatch.GetTimestamp());
            for (var i = 0; i < response.Records.Count; i++)
            {
                var record = response.Records[i];
                if (record.ErrorCode.Length > 0)
                {
                    Interlocked.Increment(ref outcome.Failed);
                    failures.FailedRecords("PutRecords", 1, record.ErrorCode, record.ErrorMessage);
                    continue;
                }

                outcome.Acknowledged(record.ShardId, record.SequenceNumber);
                if (first >= 0 && (first + i) % sampleEvery == 0)
                {
                    outcome.Samples.Add((record.ShardId, record.SequenceNumber, sent));
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Add(ref outcome.Failed, request.Records.Count);
            failures.Call("PutRecords", ex);
        }
    }

    // Each sampled record's latency: its object's first listing minus the record's send time.
    private (double P50, double P99, double Max, int Samples, int Missing) EndToEnd(ConcurrentBag<(string ShardId, string Sequence, long SentAt)> samples, IReadOnlyList<SeenObject> seen)
    {
        var byShard = seen.Where(o => o.ShardId.Length > 0).GroupBy(o => o.ShardId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(o => o.First, Comparer<string>.Create(Compare)).ToList(), StringComparer.Ordinal);
        var latencies = new LatencyRecorder(samples.Count + 1);
        var missing = 0;
        foreach (var (shardId, sequence, sentAt) in samples)
        {
            var found = byShard.TryGetValue(shardId, out var objects)
                ? objects.LastOrDefault(o => Compare(o.First, sequence) <= 0 && Compare(sequence, o.Last) <= 0)
                : null;
            if (found is null)
            {
                missing++;
                continue;
            }

            latencies.Add(found.SeenAt - sentAt);
        }

        if (missing > 0)
        {
            failures.Other($"{missing} sampled records were in no listed object");
        }

        if (latencies.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN, 0, missing);
        }

        var (p50, p99, max) = _merger.PercentilesAndMax([latencies]);
        return (p50 / 1000, p99 / 1000, max / 1000, latencies.Count, missing);
    }

    private static (double P50, double P99, double Max, int Samples) Percentiles(List<double> values)
    {
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN, 0);
        }

        var sorted = values.Order().ToArray();
        double Rank(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return (Rank(0.50), Rank(0.99), sorted[^1], sorted.Length);
    }

    private (TimeSpan Nodes, TimeSpan S3, long At) CpuNow() => (cluster.CpuTime, s3rver.CpuTime, Stopwatch.GetTimestamp());

    private (double NodesPercent, double S3Percent) CpuSince((TimeSpan Nodes, TimeSpan S3, long At) start)
    {
        var (nodes, s3, at) = CpuNow();
        var wall = Seconds(start.At, at) * Environment.ProcessorCount;
        return wall <= 0 ? (double.NaN, double.NaN) : ((nodes - start.Nodes).TotalSeconds / wall * 100, (s3 - start.S3).TotalSeconds / wall * 100);
    }

    /// <summary>The puts of a run as they are answered: counts, each shard's last record, samples.</summary>
    private sealed record DeliveryEnd(long CaughtUp, List<double> Lags, (double NodesPercent, double S3Percent) Cpu, IReadOnlyList<SeenObject> Seen, DeliveryStreamDescription Description);

    private sealed class PutOutcome(long start)
    {
        private readonly Dictionary<string, string> _lastByShard = new(StringComparer.Ordinal);
        private long _acked;
        private long _lastAnswer;

        public long Sent;
        public long Failed;

        public long Start { get; } = start;

        public long LastAnswer => Interlocked.Read(ref _lastAnswer);

        public ConcurrentBag<(string ShardId, string Sequence, long SentAt)> Samples { get; } = [];

        public IReadOnlyDictionary<string, string> LastByShard
        {
            get
            {
                lock (_lastByShard)
                {
                    return new Dictionary<string, string>(_lastByShard, StringComparer.Ordinal);
                }
            }
        }

        public PutFigures Figures { get; private set; } = new(0, 0, 0, 0, 0);

        public void Answered(long at)
        {
            long seen;
            while ((seen = Interlocked.Read(ref _lastAnswer)) < at && Interlocked.CompareExchange(ref _lastAnswer, at, seen) != seen)
            {
            }
        }

        public void Acknowledged(string shardId, string sequence)
        {
            Interlocked.Increment(ref _acked);
            lock (_lastByShard)
            {
                if (!_lastByShard.TryGetValue(shardId, out var last) || Compare(sequence, last) > 0)
                {
                    _lastByShard[shardId] = sequence;
                }
            }
        }

        /// <summary>Works out the figures: <paramref name="sentBeforeLast"/> records were sent before <paramref name="lastSend"/>.</summary>
        public void Finish(int recordBytes, long lastSend, long sentBeforeLast)
        {
            var acked = Interlocked.Read(ref _acked);
            var seconds = Seconds(Start, Math.Max(Start + 1, LastAnswer));
            var sendSeconds = Seconds(Start, Math.Max(Start + 1, lastSend));
            Figures = new PutFigures(acked, Interlocked.Read(ref Failed), sentBeforeLast / sendSeconds, acked * (double)recordBytes / 1e6 / seconds, seconds);
        }
    }
}
