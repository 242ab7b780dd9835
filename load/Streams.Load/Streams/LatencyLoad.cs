using System.Diagnostics;
using Streams.Client.Api;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.ClusterBench;

/// <summary>
/// Open-loop PutRecord calls at a fixed rate: call k is due at start + k / rate and is sent then
/// whether or not earlier calls were answered, and its latency is measured from that due time, so a
/// slow answer delays no later call and a client that falls behind adds its lateness to the
/// latency rather than hiding it (no coordinated omission).
/// </summary>
internal sealed class LatencyLoad(StreamsBench bench)
{
    /// <summary>Calls awaiting their answer at most; beyond it the client waits, and the wait counts as latency.</summary>
    private const int MaxOutstanding = 20_000;

    private static readonly TimeSpan _stuckAfter = TimeSpan.FromSeconds(60);

    private readonly LatencyMerger _merger = new();

    /// <summary>
    /// Sends <paramref name="rate"/> × <paramref name="duration"/> PutRecord calls of records stamped
    /// with <paramref name="tag"/> and their send time, the shards in turn, to any node (round robin)
    /// or to each shard's leader; counts the acknowledged records per shard into <paramref name="acked"/>.
    /// </summary>
    public async Task<LatencyRun> RunAsync(Target target, double rate, TimeSpan duration, int tag, long[]? acked, Failures failures, CancellationToken cancellationToken)
    {
        var run = new Run((int)Math.Max(1, Math.Round(rate * duration.TotalSeconds)));
        var shards = bench.Shards;
        var shardIndex = shards.ToDictionary(s => s.ShardId, s => s.Index, StringComparer.Ordinal);
        var clients = bench.Cluster.Clients;
        var random = new Random(tag);
        var interval = Stopwatch.Frequency / rate;
        var cpu = CpuMark.Now(bench.Cluster);
        var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100);
        var tasks = new Task[run.Count];

        // The dispatcher has a thread of its own: on a busy machine a timer callback queued behind
        // the thread pool's work would send late, and the lateness would count as the server's.
        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new Thread(() =>
        {
            try
            {
                var k = 0;
                while (k < run.Count)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var now = Stopwatch.GetTimestamp();
                    while (k < run.Count && start + (long)(k * interval) <= now && Volatile.Read(ref run.Outstanding) < MaxOutstanding)
                    {
                        var shard = shards[k % shards.Count];
                        var client = clients[target == Target.Leader ? shard.Leader : k % clients.Count];
                        var request = new PutRecordRequest { StreamName = bench.StreamName, PartitionKey = bench.Records.KeyOf(shard.Index, random) };
                        tasks[k] = PutAsync(client, request, k, start + (long)(k * interval), tag, run, shardIndex, acked, failures, cancellationToken);
                        k++;
                    }

                    if (k < run.Count)
                    {
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), start + (long)(k * interval));
                        Thread.Sleep(Math.Max(1, (int)wait.TotalMilliseconds));
                    }
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
            Name = "open-loop dispatcher",
        };
        dispatcher.Start();
        await dispatched.Task.ConfigureAwait(false);
        await Task.WhenAll(tasks).WaitAsync(bench.Settings.CallDeadline + _stuckAfter, cancellationToken).ConfigureAwait(false);
        var used = CpuMark.Now(bench.Cluster).Since(cpu);
        var answered = new LatencyRecorder(run.Count);
        var lag = new LatencyRecorder(run.Count);
        long failed = 0;
        for (var i = 0; i < run.Count; i++)
        {
            lag.Add(run.Lag[i]);
            if (run.Latency[i] < 0)
            {
                failed++;
            }
            else
            {
                answered.Add(run.Latency[i]);
            }
        }

        var (p50, p99, max) = _merger.PercentilesAndMax([answered]);
        var (_, lagP99) = _merger.Percentiles([lag]);
        var sendSeconds = Stopwatch.GetElapsedTime(start, Math.Max(start + 1, run.LastSent)).TotalSeconds;
        var sentPerSecond = run.Count <= 1 ? double.NaN : (run.Count - 1) / sendSeconds;
        return new LatencyRun(sentPerSecond, p50 / 1000, p99 / 1000, max / 1000, lagP99 / 1000, run.Count, failed, run.MaxOutstanding, used);
    }

    private async Task PutAsync(
        StreamsApiClient client, PutRecordRequest request, int k, long due, int tag, Run run, Dictionary<string, int> shardIndex, long[]? acked, Failures failures, CancellationToken cancellationToken)
    {
        var outstanding = Interlocked.Increment(ref run.Outstanding);
        if (outstanding > run.MaxOutstanding)
        {
            run.MaxOutstanding = outstanding; // Only the dispatcher starts calls: no race on the maximum.
        }

        var sent = Stopwatch.GetTimestamp();
        run.Lag[k] = sent - due;
        run.LastSent = sent;
        request.Data = RecordSource.Stamped(bench.Settings.LatencyRecordBytes, tag, sent);
        try
        {
            using var call = client.PutRecordAsync(request, new CallOptions { Deadline = DateTimeOffset.UtcNow + bench.Settings.CallDeadline, CancellationToken = cancellationToken });
            var response = await call.ResponseAsync.ConfigureAwait(false);
            run.Latency[k] = Stopwatch.GetTimestamp() - due;
            if (acked is not null && shardIndex.TryGetValue(response.ShardId, out var shard))
            {
                Interlocked.Increment(ref acked[shard]);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            run.Latency[k] = -1;
            failures.Call("PutRecord", ex);
        }
        finally
        {
            Interlocked.Decrement(ref run.Outstanding);
        }
    }

    /// <summary>The per-call figures of one run, each slot written by its call only.</summary>
    private sealed class Run(int count)
    {
        public readonly int Count = count;
        public readonly long[] Latency = new long[count];
        public readonly long[] Lag = new long[count];
        public int Outstanding;
        public int MaxOutstanding;
        public long LastSent;
    }
}
