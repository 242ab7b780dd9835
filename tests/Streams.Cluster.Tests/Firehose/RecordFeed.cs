using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Streams.Client.Producing;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>A record the cluster acknowledged: its id (in its data), its data, and where it was written.</summary>
internal sealed record FedRecord(int Id, byte[] Data, string ShardId, string SequenceNumber);

/// <summary>
/// Puts records of varied sizes through the SDK's idempotent producer (so a retry after a node
/// kill never writes a record twice) and keeps what was acknowledged. Each record's data is
/// <c>id=NNNNNNN;</c> and lowercase letters: distinct, never holding the newline that frames raw
/// objects, and compressible like text. Sizes: mostly tens to hundreds of bytes, a quarter up to
/// 4 KB, one in twenty up to 40 KB, so objects are cut by time and by size.
/// </summary>
internal sealed class RecordFeed(int seed)
{
    private readonly Random _random = new(seed);
    private readonly ConcurrentDictionary<int, FedRecord> _acked = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private int _next;

    /// <summary>Records sent so far.</summary>
    public int Sent => Volatile.Read(ref _next);

    public int AckedCount => _acked.Count;

    public IReadOnlyCollection<FedRecord> Acked => [.. _acked.Values];

    /// <summary>Records the cluster refused for good (the test fails on any).</summary>
    public IReadOnlyCollection<string> Failures => [.. _failures];

    /// <summary>Sends <paramref name="count"/> records and waits for every acknowledgement.</summary>
    public async Task PutAsync(Producer producer, int count)
    {
        var receipts = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            receipts.Add(await SendOneAsync(producer, CancellationToken.None));
        }

        await producer.FlushAsync();
        await Task.WhenAll(receipts);
    }

    /// <summary>
    /// Sends about <paramref name="perSecond"/> records a second, in small bursts every 50 ms, until
    /// <paramref name="stop"/>; then waits for the acknowledgement of every record sent.
    /// </summary>
    public async Task RunAsync(Producer producer, int perSecond, CancellationToken stop)
    {
        var receipts = new List<Task>();
        var burst = Math.Max(1, perSecond / 20);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < burst; i++)
                {
                    receipts.Add(await SendOneAsync(producer, stop));
                }

                await Task.Delay(50, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped; what was sent is still awaited.
        }

        await producer.FlushAsync(CancellationToken.None);
        await Task.WhenAll(receipts);
    }

    /// <summary>Each shard's last acknowledged sequence number.</summary>
    public Dictionary<string, string> LastAckedByShard() =>
        _acked.Values.GroupBy(r => r.ShardId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.SequenceNumber).Aggregate((a, b) => StreamOps.CompareSequenceNumbers(a, b) >= 0 ? a : b), StringComparer.Ordinal);

    /// <summary>The id a record's data carries, or -1.</summary>
    public static int IdOf(ReadOnlySpan<byte> data)
    {
        if (data.Length < 11 || !data.StartsWith("id="u8) || data[10] != (byte)';')
        {
            return -1;
        }

        return int.TryParse(Encoding.ASCII.GetString(data[3..10]), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;
    }

    private async Task<Task> SendOneAsync(Producer producer, CancellationToken cancellationToken)
    {
        byte[] data;
        string key;
        int id;
        lock (_random)
        {
            id = _next;
            data = Payload(id, _random);
            key = "key-" + _random.Next(256).ToString(CultureInfo.InvariantCulture);
            Volatile.Write(ref _next, id + 1);
        }

        var receipt = await producer.SendAsync(key, data, cancellationToken: cancellationToken);
        return Acknowledged(id, data, receipt);
    }

    private async Task Acknowledged(int id, byte[] data, RecordReceipt receipt)
    {
        try
        {
            var result = await receipt;
            _acked[id] = new FedRecord(id, data, result.ShardId, result.SequenceNumber);
        }
#pragma warning disable CA1031 // Collected and asserted on by the test.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failures.Enqueue($"record {id}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static byte[] Payload(int id, Random random)
    {
        var roll = random.Next(100);
        var length = roll < 70 ? random.Next(20, 400) : roll < 95 ? random.Next(400, 4_000) : random.Next(4_000, 40_000);
        var data = new byte[length];
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id={id:D7};"), data);
        for (var i = 11; i < length; i++)
        {
            data[i] = (byte)('a' + random.Next(26));
        }

        return data;
    }
}
