using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf.Collections;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.ClusterBench;

/// <summary>
/// Closed-loop writes as fast as the cluster takes them: PutRecords callers that each send their
/// next batch when the previous one is answered, and Produce streams that keep a window of batches
/// in flight and send the next as each acknowledgement comes back.
/// </summary>
internal sealed class ThroughputLoad(StreamsBench bench)
{
    /// <summary>How much longer than its duration a run may take before it is declared stuck.</summary>
    private static readonly TimeSpan _stuckAfter = TimeSpan.FromSeconds(60);

    private readonly Dictionary<(Target, int), PutRecordsRequest[]> _putRequests = [];
    private readonly LatencyMerger _merger = new();

    /// <summary>
    /// How many PutRecords callers or Produce streams there are, and where each sends: any node
    /// (caller i to node i mod 3, records of every shard) or a shard's leader (caller i to the
    /// leader of shard i mod 4, records of that shard only).
    /// </summary>
    public static int Streams(Target target, StreamsBench bench) => target == Target.AnyNode ? bench.Cluster.Nodes.Count : bench.Shards.Count;

    public async Task<ThroughputRun> PutRecordsAsync(Target target, int recordBytes, TimeSpan duration, Failures failures, CancellationToken cancellationToken)
    {
        var callers = bench.Settings.InFlight;
        var requests = PutRequests(target, recordBytes);
        var shards = bench.Shards;
        var tallies = new Tally[callers];
        var recorders = new LatencyRecorder[callers];
        var workers = new Task[callers];
        var cpu = CpuMark.Now(bench.Cluster);
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < callers; i++)
        {
            var shard = target == Target.Leader ? shards[i % shards.Count] : null;
            var client = bench.Cluster.Clients[shard?.Leader ?? (i % bench.Cluster.Nodes.Count)];
            var request = requests[i];
            var tally = tallies[i] = new Tally();
            var recorder = recorders[i] = new LatencyRecorder(1024);
            workers[i] = Task.Run(() => PutLoopAsync(client, request, shard?.ShardId, stopAt, tally, recorder, failures, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).WaitAsync(duration + _stuckAfter, cancellationToken).ConfigureAwait(false);
        return Finish(start, cpu, recordBytes, tallies, recorders, failures);
    }

    public async Task<ThroughputRun> ProduceAsync(Target target, int recordBytes, TimeSpan duration, Failures failures, CancellationToken cancellationToken)
    {
        var streams = Streams(target, bench);
        var requests = PutRequests(target, recordBytes);
        var shards = bench.Shards;
        var tallies = new Tally[streams];
        var recorders = new LatencyRecorder[streams];
        var workers = new Task[streams];
        var cpu = CpuMark.Now(bench.Cluster);
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (var s = 0; s < streams; s++)
        {
            var shard = target == Target.Leader ? shards[s] : null;
            var client = bench.Cluster.Clients[shard?.Leader ?? s];

            // The batches this stream sends in turn: those the PutRecords callers of the same target send there.
            var batches = requests.Where((_, i) => i % streams == s).Select(r => r.Records).ToArray();
            var window = Window(bench.Settings.InFlight, streams, s);
            var tally = tallies[s] = new Tally();
            var recorder = recorders[s] = new LatencyRecorder(1024);
            workers[s] = Task.Run(() => ProduceLoopAsync(client, batches, window, shard?.ShardId, stopAt, tally, recorder, failures, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).WaitAsync(duration + _stuckAfter, cancellationToken).ConfigureAwait(false);
        return Finish(start, cpu, recordBytes, tallies, recorders, failures);
    }

    /// <summary>The window of Produce stream <paramref name="s"/>: the batches in flight shared out, the first streams taking the remainder.</summary>
    public static int Window(int inFlight, int streams, int s) => Math.Max(1, (inFlight / streams) + (s < inFlight % streams ? 1 : 0));

    private ThroughputRun Finish(long start, CpuMark cpu, int recordBytes, Tally[] tallies, LatencyRecorder[] recorders, Failures failures)
    {
        var end = Stopwatch.GetTimestamp();
        var used = CpuMark.Now(bench.Cluster).Since(cpu);
        var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        var records = tallies.Sum(t => t.Records);
        var (p50, p99) = _merger.Percentiles(recorders);
        return new ThroughputRun(
            records / seconds, records * (double)recordBytes / 1e6 / seconds, p50 / 1000, p99 / 1000,
            records, tallies.Sum(t => t.FailedRecords), tallies.Sum(t => t.FailedCalls), tallies.Sum(t => t.Misrouted), seconds, used);
    }

    /// <summary>One request per PutRecords caller, built once per target and size and sent again and again.</summary>
    private PutRecordsRequest[] PutRequests(Target target, int recordBytes)
    {
        if (!_putRequests.TryGetValue((target, recordBytes), out var requests))
        {
            var random = new Random(recordBytes + (int)target);
            var shards = bench.Shards.Count;
            requests = [.. Enumerable.Range(0, bench.Settings.InFlight).Select(i => bench.Records.Batch(bench.StreamName, bench.Settings.BatchRecords, recordBytes, target == Target.Leader ? i % shards : null, random))];
            _putRequests[(target, recordBytes)] = requests;
        }

        return requests;
    }

    private async Task PutLoopAsync(StreamsApiClient client, PutRecordsRequest request, string? shardId, long stopAt, Tally tally, LatencyRecorder recorder, Failures failures, CancellationToken cancellationToken)
    {
        var deadline = bench.Settings.CallDeadline;
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            var sent = Stopwatch.GetTimestamp();
            try
            {
                using var call = client.PutRecordsAsync(request, new CallOptions { Deadline = DateTimeOffset.UtcNow + deadline, CancellationToken = cancellationToken });
                var response = await call.ResponseAsync.ConfigureAwait(false);
                recorder.Add(Stopwatch.GetTimestamp() - sent);
                tally.Count("PutRecords", response.Records, response.FailedRecordCount, shardId, failures);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                tally.FailedCalls++;
                failures.Call("PutRecords", ex);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false); // No error storm against a broken node.
            }
        }
    }

    private async Task ProduceLoopAsync(
        StreamsApiClient client, RepeatedField<PutRecordsRequestEntry>[] batches, int window, string? shardId, long stopAt,
        Tally tally, LatencyRecorder recorder, Failures failures, CancellationToken cancellationToken)
    {
        ulong batchId = 0;
        var records = batches[0].Count;

        // One stream for the run; should it fail, another one for the rest of it.
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), stopAt);
            using var call = client.Produce(new CallOptions { Deadline = DateTimeOffset.UtcNow + remaining + _stuckAfter, CancellationToken = session.Token });
            using var slots = new SemaphoreSlim(window, window);
            var sentAt = new ConcurrentDictionary<ulong, long>();
            var reader = ReadAcksAsync(call.ResponseStream, sentAt, slots, records, shardId, tally, recorder, failures, session);
            Exception? failure = null;
            try
            {
                while (true)
                {
                    await slots.WaitAsync(session.Token).ConfigureAwait(false);
                    if (Stopwatch.GetTimestamp() >= stopAt)
                    {
                        break;
                    }

                    batchId++;
                    var batch = new ProduceRequest { BatchId = batchId, StreamName = bench.StreamName };
                    batch.Records.AddRange(batches[(int)(batchId % (ulong)batches.Length)]);
                    sentAt[batchId] = Stopwatch.GetTimestamp();
                    await call.RequestStream.WriteAsync(batch, session.Token).ConfigureAwait(false);
                }

                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = ex;
                await session.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The reader's reason is the real one when the writer only saw the cancellation it caused.
                if (failure is null or OperationCanceledException)
                {
                    failure = ex;
                }
            }

            if (failure is not null)
            {
                tally.FailedCalls++;
                failures.Call("Produce", failure);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task ReadAcksAsync(
        IAsyncStreamReader<ProduceResponse> responses, ConcurrentDictionary<ulong, long> sentAt, SemaphoreSlim slots, int records, string? shardId,
        Tally tally, LatencyRecorder recorder, Failures failures, CancellationTokenSource session)
    {
        try
        {
            while (await responses.MoveNext(session.Token).ConfigureAwait(false))
            {
                var ack = responses.Current;
                if (sentAt.TryRemove(ack.BatchId, out var sent))
                {
                    recorder.Add(Stopwatch.GetTimestamp() - sent);
                }

                if (ack.ErrorCode.Length > 0)
                {
                    tally.FailedRecords += records;
                    failures.RefusedBatch(ack.ErrorCode, ack.ErrorMessage, records);
                }
                else
                {
                    tally.Count("Produce", ack.Records, ack.FailedRecordCount, shardId, failures);
                }

                slots.Release();
            }
        }
        catch
        {
            // The writer may be waiting for a slot that will never come back.
            await session.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What one caller or stream counted; written by it only, read after it finished.</summary>
    private sealed class Tally
    {
        public long Records;
        public long FailedRecords;
        public long FailedCalls;
        public long Misrouted;

        public void Count(string operation, RepeatedField<PutRecordsResultEntry> results, int failed, string? shardId, Failures failures)
        {
            Records += results.Count - failed;
            if (failed > 0)
            {
                FailedRecords += failed;
                var first = results.First(r => r.ErrorCode.Length > 0);
                failures.FailedRecords(operation, failed, first.ErrorCode, first.ErrorMessage);
            }

            // A leader run routes every record of a batch to one shard: check the first and the last landed there.
            if (shardId is not null && results.Count > 0
                && ((results[0].ShardId.Length > 0 && results[0].ShardId != shardId) || (results[^1].ShardId.Length > 0 && results[^1].ShardId != shardId)))
            {
                Misrouted++;
            }
        }
    }
}
