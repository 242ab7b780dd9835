using System.Diagnostics;
using Streams.Client;
using Streams.Client.Producing;

namespace Streams.Load.ClusterBench;

/// <summary>
/// The SDK's <see cref="Producer"/> in a closed loop: a few callers send records with random
/// partition keys of every shard as fast as <see cref="Producer.SendAsync"/> takes them (it waits
/// while the producer's buffer is full); the producer routes them on the client, batches them per
/// shard and sends them to each shard's leader (over Produce streams, or with PutRecords calls),
/// idempotently, with its default settings. What it did is read from the client's meter, as an
/// application would.
/// </summary>
internal sealed class ProducerLoad(StreamsBench bench) : IDisposable
{
    private static readonly TimeSpan _stuckAfter = TimeSpan.FromSeconds(60);

    // One client for every run, as an application keeps one: its channels and shard maps stay warm.
    private readonly StreamsClient _client = new(new StreamsClientOptions { Endpoints = [.. bench.Cluster.Nodes.Select(n => n.GrpcAddress)] });

    public async Task<ProducerRun> RunAsync(ProducerTransport transport, int recordBytes, TimeSpan duration, Failures failures, CancellationToken cancellationToken)
    {
        var callers = bench.Settings.ProducerCallers;
        using var meter = new ProducerMeter();
        var producer = new Producer(_client, new ProducerOptions { StreamName = bench.StreamName, Transport = transport });
        await using (producer.ConfigureAwait(false))
        {
            // The client's channels and shard map are warm before the clock starts (kept from run to run).
            await _client.GetShardMapAsync(bench.StreamName, cancellationToken).ConfigureAwait(false);
            var cpu = CpuMark.Now(bench.Cluster);
            var start = Stopwatch.GetTimestamp();
            var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var workers = new Task[callers];
            for (var i = 0; i < callers; i++)
            {
                var random = new Random(recordBytes + i);
                workers[i] = Task.Run(() => SendLoopAsync(producer, recordBytes, stopAt, random, failures, cancellationToken), cancellationToken);
            }

            await Task.WhenAll(workers).WaitAsync(duration + _stuckAfter, cancellationToken).ConfigureAwait(false);

            // Everything sent is answered before the clock stops.
            await producer.FlushAsync(cancellationToken).WaitAsync(_stuckAfter, cancellationToken).ConfigureAwait(false);
            var end = Stopwatch.GetTimestamp();
            var used = CpuMark.Now(bench.Cluster).Since(cpu);
            var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            var (records, failed, batches, outOfOrder, retried, p50, p99) = meter.Read();
            if (failed > 0)
            {
                failures.FailedRecords("Producer", (int)failed, "(see the client's log)", "records failed");
            }

            var throughput = new ThroughputRun(records / seconds, records * (double)recordBytes / 1e6 / seconds, p50, p99, records, failed, 0, 0, seconds, used);
            return new ProducerRun(throughput, batches, outOfOrder, retried);
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task SendLoopAsync(Producer producer, int recordBytes, long stopAt, Random random, Failures failures, CancellationToken cancellationToken)
    {
        var records = bench.Records;
        try
        {
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                // The clock is read every 64 records: it costs about as much as taking one.
                for (var i = 0; i < 64; i++)
                {
                    // The receipt is not awaited: the meter counts what is acknowledged.
                    await producer.SendAsync(records.AnyKey(random), records.Bytes(recordBytes, random), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failures.Call("Producer.SendAsync", ex);
        }
    }
}
