using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Streams.Client.Api;
using Streams.Client.Producing;
using Streams.Rpc;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Client.Tests.Producing;

public sealed class ProducerTests(ClientNode node) : IClassFixture<ClientNode>
{
    [Theory]
    [InlineData(ProducerTransport.ProduceStream)]
    [InlineData(ProducerTransport.PutRecords)]
    public async Task Records_of_a_key_are_written_in_order_with_increasing_sequence_numbers_in_the_key_shard(ProducerTransport transport)
    {
        var stream = await node.NewActiveStreamAsync("producer-order", 4);
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream, BatchMaxRecords = 50, Transport = transport });
        var receipts = new List<(string Key, int Index, RecordReceipt Receipt)>();
        for (var i = 0; i < 2_000; i++)
        {
            var key = "key-" + (i % 37).ToString(CultureInfo.InvariantCulture);
            receipts.Add((key, i, await producer.SendAsync(key, Encoding.UTF8.GetBytes($"{key}/{i}"))));
        }

        await producer.FlushAsync();
        var map = await node.Client.GetShardMapAsync(stream);
        foreach (var group in receipts.GroupBy(r => r.Key))
        {
            var results = new List<RecordResult>();
            foreach (var (key, _, receipt) in group)
            {
                var result = await receipt;
                Assert.Equal(map.ShardFor(key)!.ShardId, result.ShardId);
                results.Add(result);
            }

            for (var i = 1; i < results.Count; i++)
            {
                Assert.True(CompareSequenceNumbers(results[i - 1].SequenceNumber, results[i].SequenceNumber) < 0, $"{group.Key}: {results[i - 1].SequenceNumber} then {results[i].SequenceNumber}");
            }
        }

        // What the shards hold: each record once, each key's records in the order sent.
        var read = await ReadAllAsync(stream);
        Assert.Equal(receipts.Count, read.Count);
        foreach (var group in read.GroupBy(r => r.PartitionKey))
        {
            var indices = group.Select(r => int.Parse(r.Data.ToStringUtf8().Split('/')[1], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(indices.Order().ToList(), indices);
        }
    }

    [Theory]
    [InlineData(ProducerTransport.ProduceStream)]
    [InlineData(ProducerTransport.PutRecords)]
    public async Task Many_concurrent_callers_each_see_every_record_written_once_and_in_their_order(ProducerTransport transport)
    {
        var stream = await node.NewActiveStreamAsync("producer-callers", 3);
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream, Linger = TimeSpan.FromMilliseconds(2), Transport = transport });
        const int Callers = 16;
        const int PerCaller = 500;
        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            var receipts = new List<RecordReceipt>();
            for (var i = 0; i < PerCaller; i++)
            {
                receipts.Add(await producer.SendAsync($"caller-{c}-{i % 5}", Encoding.UTF8.GetBytes($"{c}/{i}")));
            }

            return await Task.WhenAll(receipts.Select(r => r.Completion));
        })).ToList();

        var results = await Task.WhenAll(callers);
        Assert.Equal(Callers * PerCaller, results.Sum(r => r.Length));
        Assert.Equal(Callers * PerCaller, results.SelectMany(r => r).Distinct().Count());

        var read = await ReadAllAsync(stream);
        Assert.Equal(Callers * PerCaller, read.Count);
        Assert.Equal(read.Count, read.Select(r => r.Data.ToStringUtf8()).Distinct().Count());
        foreach (var key in read.GroupBy(r => r.PartitionKey))
        {
            var indices = key.Select(r => int.Parse(r.Data.ToStringUtf8().Split('/')[1], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(indices.Order().ToList(), indices);
        }
    }

    [Fact]
    public async Task An_explicit_hash_key_routes_the_record_and_PutAsync_waits_for_it()
    {
        var stream = await node.NewActiveStreamAsync("producer-hash-key", 2);
        await using var producer = node.Client.CreateProducer(new ProducerOptions { StreamName = stream });
        var map = await node.Client.GetShardMapAsync(stream);
        var last = map.OpenShards[^1];
        var result = await producer.PutAsync("any key", Encoding.UTF8.GetBytes("x"), last.EndingHashKey.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(last.ShardId, result.ShardId);
    }

    [Fact]
    public async Task Records_beyond_a_limit_are_refused_with_what_to_change_and_the_others_are_written()
    {
        var stream = await node.NewActiveStreamAsync("producer-limits", 1);
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream });
        var before = await producer.SendAsync("k", Encoding.UTF8.GetBytes("before"));

        var oversized = await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync("k", new byte[Producer.MaxRecordBytes + 1]));
        Assert.Contains("data has 1,048,577 bytes; the limit is 1,048,576 bytes (1 MiB) per record", oversized.Message, StringComparison.Ordinal);
        var longKey = await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync(new string('k', 257), new byte[1]));
        Assert.Contains("partitionKey has 257 characters; the limit is 256", longKey.Message, StringComparison.Ordinal);
        var emptyKey = await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync(string.Empty, new byte[1]));
        Assert.Contains("partitionKey is empty", emptyKey.Message, StringComparison.Ordinal);
        var badHash = await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync("k", new byte[1], "-1"));
        Assert.Contains("explicitHashKey must be a decimal integer in [0, 2^128 - 1]; '-1' is not.", badHash.Message, StringComparison.Ordinal);
        var tooBig = await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync("k", new byte[1], "340282366920938463463374607431768211456"));
        Assert.Contains("explicitHashKey", tooBig.Message, StringComparison.Ordinal);

        var largest = await producer.SendAsync("k", new byte[Producer.MaxRecordBytes]);
        var after = await producer.SendAsync("k", Encoding.UTF8.GetBytes("after"));
        var results = new[] { await before, await largest, await after };
        Assert.True(CompareSequenceNumbers(results[0].SequenceNumber, results[1].SequenceNumber) < 0);
        Assert.True(CompareSequenceNumbers(results[1].SequenceNumber, results[2].SequenceNumber) < 0);
        Assert.Equal(3, (await ReadAllAsync(stream)).Count);
    }

    [Fact]
    public async Task Records_for_a_stream_that_does_not_exist_fail_with_ResourceNotFoundException()
    {
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = ClientNode.NewStreamName("producer-missing") });
        var receipt = await producer.SendAsync("k", new byte[10]);
        var error = await Assert.ThrowsAsync<StreamsException>(() => receipt.Completion);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(StreamsErrors.ResourceNotFound, error.ErrorCode);
    }

    [Theory]
    [InlineData(ProducerTransport.ProduceStream)]
    [InlineData(ProducerTransport.PutRecords)]
    public async Task Without_idempotence_records_are_still_written_in_order(ProducerTransport transport)
    {
        var stream = await node.NewActiveStreamAsync("producer-plain", 2);
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream, Idempotent = false, BatchMaxRecords = 20, Transport = transport });
        var receipts = new List<RecordReceipt>();
        for (var i = 0; i < 300; i++)
        {
            receipts.Add(await producer.SendAsync("key-" + (i % 3).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes($"{i % 3}/{i}")));
        }

        await producer.FlushAsync();
        Assert.All(receipts, r => Assert.True(r.Completion.IsCompletedSuccessfully));
        var read = await ReadAllAsync(stream);
        Assert.Equal(300, read.Count);
        foreach (var key in read.GroupBy(r => r.PartitionKey))
        {
            var indices = key.Select(r => int.Parse(r.Data.ToStringUtf8().Split('/')[1], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(indices.Order().ToList(), indices);
        }
    }

    [Fact]
    public async Task Dispose_flushes_what_is_buffered_and_then_refuses_records()
    {
        var stream = await node.NewActiveStreamAsync("producer-dispose", 2);
        var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream, Linger = TimeSpan.FromSeconds(30) });
        var receipts = new List<RecordReceipt>();
        for (var i = 0; i < 50; i++)
        {
            receipts.Add(await producer.SendAsync("k" + i.ToString(CultureInfo.InvariantCulture), new byte[10]));
        }

        Assert.DoesNotContain(receipts, r => r.Completion.IsCompleted);
        await producer.DisposeAsync();
        Assert.All(receipts, r => Assert.True(r.Completion.IsCompletedSuccessfully));
        Assert.Equal(0, producer.BufferedBytes);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await producer.SendAsync("k", new byte[1]));
        await producer.DisposeAsync();
    }

    [Fact]
    public async Task While_no_node_answers_the_buffer_fills_to_its_bound_callers_wait_and_dispose_fails_what_is_left()
    {
        var dead = new Uri($"http://127.0.0.1:{FreePort()}");
        using var client = new StreamsClient(new StreamsClientOptions { Endpoints = [dead], MaxAttempts = 3, InitialRetryDelay = TimeSpan.FromMilliseconds(5), MaxRetryDelay = TimeSpan.FromMilliseconds(50) });
        const long Bound = 64 * 1024;
        var producer = new Producer(client, new ProducerOptions { StreamName = "stalled", BatchMaxBytes = 8 * 1024, BufferMaxBytes = Bound, DisposeTimeout = TimeSpan.FromMilliseconds(200) });
        var record = new byte[1000];
        var taken = new List<RecordReceipt>();
        ValueTask<RecordReceipt> next;
        while (true)
        {
            next = producer.SendAsync("key-" + taken.Count.ToString(CultureInfo.InvariantCulture), record);
            if (!next.IsCompleted)
            {
                break;
            }

            taken.Add(await next);
            Assert.True(producer.BufferedBytes <= Bound, $"{producer.BufferedBytes} bytes buffered, bound {Bound}");
            Assert.True(taken.Count < 1000, "the producer never pushed back");
        }

        // Full: the caller waits, and keeps waiting while nothing is acknowledged.
        Assert.True(producer.BufferedBytes > Bound - record.Length - Producer.RecordOverheadBytes - 100, $"only {producer.BufferedBytes} of {Bound} bytes buffered when it pushed back");
        await Task.Delay(300);
        Assert.False(next.IsCompleted);
        Assert.True(producer.BufferedBytes <= Bound);

        // A waiting caller can give up; nothing of its record is kept.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var cancelled = producer.SendAsync("other", record, cancellationToken: cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        Assert.False(next.IsCompleted);
        Assert.DoesNotContain(taken, r => r.Completion.IsCompleted);

        await producer.DisposeAsync();
        var waiting = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await next);
        Assert.Contains("takes no more records", waiting.Message, StringComparison.Ordinal);
        foreach (var receipt in taken)
        {
            var failed = await Assert.ThrowsAsync<ObjectDisposedException>(() => receipt.Completion);
            Assert.Contains("was disposed before this record was acknowledged", failed.Message, StringComparison.Ordinal);
            Assert.Contains("It was not sent, so it was not written.", failed.Message, StringComparison.Ordinal);
            Assert.Contains("raise DisposeTimeout", failed.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, producer.BufferedBytes);
    }

    // With one batch in flight per shard a key's records keep their order across the split; with
    // more, a batch in flight when the parent closed may be placed in a child by the server after a
    // later one (see Producer's remarks), so only exactly-once is checked then.
    [Theory]
    [InlineData(ProducerTransport.ProduceStream, 1)]
    [InlineData(ProducerTransport.ProduceStream, 4)]
    [InlineData(ProducerTransport.PutRecords, 1)]
    public async Task Records_follow_a_split_into_the_child_shards_each_written_once_and_keys_in_order(ProducerTransport transport, int inFlight)
    {
        var stream = await node.NewActiveStreamAsync("producer-split", 1);
        await using var producer = new Producer(node.Client, new ProducerOptions { StreamName = stream, BatchMaxRecords = 25, MaxInFlightBatchesPerShard = inFlight, Transport = transport });
        var receipts = new List<RecordReceipt>();
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 400; i++)
            {
                receipts.Add(await producer.SendAsync("key-" + (i % 11).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes($"{i % 11}/{i}")));
                if (i % 50 == 0)
                {
                    await Task.Delay(5);
                }
            }
        });

        await Task.Delay(200);
        var parent = (await node.Client.GetShardMapAsync(stream)).OpenShards[0].ShardId;
        await node.Client.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = parent, NewStartingHashKey = "170141183460469231731687303715884105728" });
        await node.Client.WaitForStreamActiveAsync(stream);
        await Task.Delay(300);
        await stop.CancelAsync();
        await sending;
        await producer.FlushAsync();

        var results = await Task.WhenAll(receipts.Select(r => r.Completion));
        node.Client.InvalidateShardMap(stream);
        var map = await node.Client.GetShardMapAsync(stream);
        Assert.Equal(2, map.OpenShards.Length);
        Assert.Contains(results, r => r.ShardId != parent);

        // Parent first, then its children: each record once; each key's records in the order sent.
        var read = await ReadAllAsync(stream);
        Assert.Equal(receipts.Count, read.Count);
        Assert.Equal(read.Count, read.Select(r => r.Data.ToStringUtf8()).Distinct().Count());
        foreach (var key in read.GroupBy(r => r.PartitionKey).Where(_ => inFlight == 1))
        {
            var indices = key.Select(r => int.Parse(r.Data.ToStringUtf8().Split('/')[1], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(indices.Order().ToList(), indices);
        }
    }

    [Fact]
    public async Task Written_records_and_batches_are_counted_on_the_client_meter()
    {
        var stream = await node.NewActiveStreamAsync("producer-metrics", 1);
        using var client = node.NewClient();
        long records = 0, batches = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StreamsClient.MeterName && instrument.Name.StartsWith("streams.client.producer.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "streams.client.producer.records")
            {
                Interlocked.Add(ref records, value);
            }
            else if (instrument.Name == "streams.client.producer.batches")
            {
                Interlocked.Add(ref batches, value);
            }
        });
        listener.Start();

        await using (var producer = new Producer(client, new ProducerOptions { StreamName = stream }))
        {
            for (var i = 0; i < 100; i++)
            {
                await producer.SendAsync("k", new byte[8]);
            }

            await producer.FlushAsync();
        }

        Assert.Equal(100, Interlocked.Read(ref records));
        Assert.True(Interlocked.Read(ref batches) >= 1);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<List<Record>> ReadAllAsync(string stream)
    {
        var map = await node.Client.GetShardMapAsync(stream);
        var all = new List<Record>();
        foreach (var shard in map.Shards)
        {
            var iterator = (await node.Client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon })).ShardIterator;
            while (iterator.Length > 0)
            {
                var page = await node.Client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator });
                all.AddRange(page.Records);
                if (page.Records.Count == 0 && page.MillisBehindLatest == 0)
                {
                    break;
                }

                iterator = page.NextShardIterator;
            }
        }

        return all;
    }

    private static int CompareSequenceNumbers(string left, string right) =>
        left.Length != right.Length ? left.Length.CompareTo(right.Length) : string.CompareOrdinal(left, right);
}
