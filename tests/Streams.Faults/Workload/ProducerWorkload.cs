using System.Globalization;
using System.Text;
using Streams.Client;
using Streams.Client.Producing;
using Streams.Faults.Checking;

namespace Streams.Faults.Workload;

/// <summary>
/// Idempotent SDK producers (<see cref="Producer"/>), each at a steady rate, each record under one of
/// the producer's few partition keys, every record, acknowledgement and failure written to the history.
/// The pace is kept by the clock, not by acknowledgements, so a stalled cluster meets the full load
/// when it comes back (up to the producers' buffers).
/// </summary>
internal sealed class ProducerWorkload(StreamsClient client, string streamName, History history, ProducerWorkloadOptions options)
{
    private static readonly TimeSpan _tick = TimeSpan.FromMilliseconds(20);

    /// <summary>Sends until <paramref name="stop"/> is cancelled, then waits for every record's outcome.</summary>
    public async Task RunAsync(int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var runs = Enumerable.Range(1, options.Producers).Select(p => Task.Run(() => RunOneAsync(p, random.Next(), stop), CancellationToken.None)).ToList();
        await Task.WhenAll(runs);
    }

    private async Task RunOneAsync(int producerNumber, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var keys = Enumerable.Range(0, options.KeysPerProducer).Select(k => string.Create(CultureInfo.InvariantCulture, $"p{producerNumber}-key{k}-{random.Next():x}")).ToArray();
        var outcomes = new List<Task>();
        var producer = client.CreateProducer(new ProducerOptions
        {
            StreamName = streamName,
            Idempotent = true,
            Linger = TimeSpan.FromMilliseconds(5),
            BufferMaxBytes = 8L * 1024 * 1024,
            DisposeTimeout = TimeSpan.FromSeconds(60),
        });
        await using (producer)
        {
            var started = history.Now;
            long number = 0;
            using var timer = new PeriodicTimer(_tick);
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    var due = (long)((history.Now - started) * options.RecordsPerSecond);
                    for (; number < due && !stop.IsCancellationRequested; number++)
                    {
                        var id = new RecordId(producerNumber, number);
                        var key = keys[random.Next(keys.Length)];
                        history.Add(new SentRecord(id, key, history.Now));
                        var receipt = await producer.SendAsync(key, Payload(id, key, options.RecordBytes), null, stop);
                        outcomes.Add(RecordOutcomeAsync(id, receipt.Completion));
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped; what was taken is still sent (the producer flushes as it is disposed).
            }
        }

        await Task.WhenAll(outcomes);
    }

    private async Task RecordOutcomeAsync(RecordId id, Task<RecordResult> completion)
    {
        try
        {
            var result = await completion;
            history.Add(new AckedRecord(id, result.ShardId, result.SequenceNumber, history.Now));
        }
#pragma warning disable CA1031 // Whatever failed the record, its outcome is unknown: that is all the checker needs.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            history.Add(new FailedRecord(id, ex is StreamsException streams ? ErrorNames.Of(streams) : ex.GetType().Name, history.Now));
        }
    }

    /// <summary>The record's data: its id, its key, then filler up to <paramref name="size"/> bytes.</summary>
    public static byte[] Payload(RecordId id, string key, int size)
    {
        var head = $"{id}{RecordId.Terminator}{key}{RecordId.Terminator}";
        var data = new byte[Math.Max(size, Encoding.ASCII.GetByteCount(head))];
        var written = Encoding.ASCII.GetBytes(head, data);
        data.AsSpan(written).Fill((byte)'.');
        return data;
    }
}
