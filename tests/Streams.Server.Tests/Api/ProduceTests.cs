using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>Produce (pipelined batches, one response each) and the idempotent producer.</summary>
public sealed class ProduceTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private const string Shard0 = "shardId-000000000000";

    private readonly ApiNode _api = fixture.Api;

    private static ProduceRequest Batch(ulong id, string stream, params PutRecordsRequestEntry[] records)
    {
        var batch = new ProduceRequest { BatchId = id, StreamName = stream };
        batch.Records.AddRange(records);
        return batch;
    }

    private static async Task<Dictionary<ulong, ProduceResponse>> ProduceAsync(AsyncDuplexStreamingCall<ProduceRequest, ProduceResponse> call, IEnumerable<ProduceRequest> batches, CancellationToken cancellationToken)
    {
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch, cancellationToken);
        }

        await call.RequestStream.CompleteAsync();
        var responses = new Dictionary<ulong, ProduceResponse>();
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var response = call.ResponseStream.Current;
            Assert.True(responses.TryAdd(response.BatchId, response), $"batch {response.BatchId} was answered twice");
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
        return responses;
    }

    [Fact]
    public async Task Pipelined_batches_get_one_response_each_and_a_bad_batch_does_not_end_the_stream()
    {
        var name = await _api.NewActiveStreamAsync("produce", 2);
        var batches = new List<ProduceRequest>();
        for (ulong id = 1; id <= 20; id++)
        {
            batches.Add(Batch(id * 10, name, [.. Enumerable.Range(0, 5).Select(i => ApiNode.Entry($"key-{i}", $"b{id:D2}-r{i}"))]));
        }

        // Bad batches among the good ones: an empty partition key, an unknown stream, no records.
        batches.Insert(5, Batch(7, name, ApiNode.Entry("", "bad")));
        batches.Insert(10, Batch(8, name + "-missing", ApiNode.Entry("k", "lost")));
        batches.Insert(15, Batch(9, name));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = _api.Streams.Produce(new CallOptions { CancellationToken = timeout.Token });
        var responses = await ProduceAsync(call, batches, timeout.Token);

        Assert.Equal(batches.Select(b => b.BatchId).Order(), responses.Keys.Order());
        Assert.Equal(StreamsErrors.InvalidArgument, responses[7].ErrorCode);
        Assert.Contains("records[0].partition_key", responses[7].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(StreamsErrors.ResourceNotFound, responses[8].ErrorCode);
        Assert.Contains(name + "-missing", responses[8].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(StreamsErrors.InvalidArgument, responses[9].ErrorCode);
        Assert.Contains("records is empty", responses[9].ErrorMessage, StringComparison.Ordinal);
        foreach (var bad in new ulong[] { 7, 8, 9 })
        {
            Assert.Empty(responses[bad].Records);
        }

        for (ulong id = 1; id <= 20; id++)
        {
            var response = responses[id * 10];
            Assert.Empty(response.ErrorCode);
            Assert.Equal(0, response.FailedRecordCount);
            Assert.Equal(5, response.Records.Count);
            Assert.All(response.Records, r => Assert.NotEmpty(r.SequenceNumber));
        }

        // Every good record is stored once, and batches keep the order they were sent in per key.
        var stored = await _api.ReadStreamAsync(name);
        var all = stored.Values.SelectMany(r => r).ToList();
        Assert.Equal(100, all.Count);
        Assert.DoesNotContain(all, r => r.Data.ToStringUtf8() is "bad" or "lost");
        for (var i = 0; i < 5; i++)
        {
            var ofKey = all.Where(r => r.PartitionKey == $"key-{i}").Select(r => r.Data.ToStringUtf8()).ToList();
            Assert.Equal(Enumerable.Range(1, 20).Select(id => $"b{id:D2}-r{i}"), ofKey);
        }
    }

    [Fact]
    public async Task An_idempotent_put_sent_twice_lands_once_with_the_same_sequence_numbers()
    {
        var name = await _api.NewActiveStreamAsync("idempotent", 1);
        var request = new PutRecordsRequest { StreamName = name, ProducerId = 4242, ProducerSequence = 0, Records = { ApiNode.Entry("a", "x1"), ApiNode.Entry("b", "x2") } };
        var first = await _api.Streams.PutRecordsAsync(request, ApiNode.Deadline());
        var again = await _api.Streams.PutRecordsAsync(request, ApiNode.Deadline());
        Assert.Equal(0, again.FailedRecordCount);
        Assert.Equal(first.Records.Select(r => r.SequenceNumber), again.Records.Select(r => r.SequenceNumber));

        // The next sequence lands; a PutRecord can be idempotent too.
        request.ProducerSequence = 1;
        request.Records[0].Data = ByteString.CopyFromUtf8("x3");
        request.Records[1].Data = ByteString.CopyFromUtf8("x4");
        await _api.Streams.PutRecordsAsync(request, ApiNode.Deadline());
        var single = new PutRecordRequest { StreamName = name, PartitionKey = "c", Data = ByteString.CopyFromUtf8("x5"), ProducerId = 4242, ProducerSequence = 2 };
        var once = await _api.Streams.PutRecordAsync(single, ApiNode.Deadline());
        var twice = await _api.Streams.PutRecordAsync(single, ApiNode.Deadline());
        Assert.Equal(once.SequenceNumber, twice.SequenceNumber);

        Assert.Equal(["x1", "x2", "x3", "x4", "x5"], ApiNode.Texts(await _api.ReadShardAsync(name, Shard0)));

        // A gap is refused, and nothing is written.
        request.ProducerSequence = 5;
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.PutRecordsAsync(request, ApiNode.Deadline()).ResponseAsync,
            StatusCode.FailedPrecondition, StreamsErrors.OutOfOrderSequence, "sequence 5", "next expected is 3");
        Assert.Equal(5, (await _api.ReadShardAsync(name, Shard0)).Count);

        // Another producer id is a producer of its own.
        var other = await _api.Streams.PutRecordsAsync(new PutRecordsRequest { StreamName = name, ProducerId = 777, ProducerSequence = 0, Records = { ApiNode.Entry("a", "y1") } }, ApiNode.Deadline());
        Assert.Equal(0, other.FailedRecordCount);
        Assert.Equal(6, (await _api.ReadShardAsync(name, Shard0)).Count);
    }

    [Fact]
    public async Task Idempotent_batches_through_Produce_land_once()
    {
        var name = await _api.NewActiveStreamAsync("idempotent-produce", 1);
        ProduceRequest Idempotent(ulong batchId, long sequence, string data)
        {
            var batch = Batch(batchId, name, ApiNode.Entry("k", data));
            batch.ProducerId = 99;
            batch.ProducerSequence = sequence;
            return batch;
        }

        // The producer's first batch alone (see the skipped test below for why), then pipelined ones.
        await _api.Streams.PutRecordsAsync(new PutRecordsRequest { StreamName = name, ProducerId = 99, ProducerSequence = 0, Records = { ApiNode.Entry("k", "p0") } }, ApiNode.Deadline());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Dictionary<ulong, ProduceResponse> first;
        using (var call = _api.Streams.Produce(new CallOptions { CancellationToken = timeout.Token }))
        {
            first = await ProduceAsync(call, [Idempotent(1, 1, "p1"), Idempotent(2, 2, "p2"), Idempotent(3, 3, "p3")], timeout.Token);
        }

        Assert.All(first.Values, r => Assert.Empty(r.ErrorCode));

        // A reconnecting producer resends its last two batches, then skips one.
        Dictionary<ulong, ProduceResponse> retry;
        using (var call = _api.Streams.Produce(new CallOptions { CancellationToken = timeout.Token }))
        {
            retry = await ProduceAsync(call, [Idempotent(12, 2, "p2"), Idempotent(13, 3, "p3"), Idempotent(14, 5, "p5")], timeout.Token);
        }

        Assert.Equal(first[2].Records[0].SequenceNumber, Assert.Single(retry[12].Records).SequenceNumber);
        Assert.Equal(first[3].Records[0].SequenceNumber, Assert.Single(retry[13].Records).SequenceNumber);
        Assert.Equal(StreamsErrors.OutOfOrderSequence, retry[14].ErrorCode);
        Assert.Contains("next expected is 4", retry[14].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(["p0", "p1", "p2", "p3"], ApiNode.Texts(await _api.ReadShardAsync(name, Shard0)));
    }

    [Fact]
    public async Task Pipelined_first_batches_of_an_idempotent_producer_land_in_order()
    {
        var name = await _api.NewActiveStreamAsync("idempotent-pipelined", 1);
        var batches = Enumerable.Range(0, 16).Select(i =>
        {
            var batch = Batch((ulong)i + 1, name, ApiNode.Entry("k", $"p{i}"));
            batch.ProducerId = 1234;
            batch.ProducerSequence = i;
            return batch;
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = _api.Streams.Produce(new CallOptions { CancellationToken = timeout.Token });
        var responses = await ProduceAsync(call, batches, timeout.Token);

        Assert.All(responses.Values, r => Assert.True(r.ErrorCode.Length == 0, $"batch {r.BatchId}: {r.ErrorCode} {r.ErrorMessage}"));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"p{i}"), ApiNode.Texts(await _api.ReadShardAsync(name, Shard0)));
    }

    [Fact]
    public async Task Idempotent_writes_are_refused_when_records_map_to_two_shards_or_the_producer_fields_are_bad()
    {
        var name = await _api.NewActiveStreamAsync("idempotent-bad", 2);
        await _api.PutAsync(name, ApiNode.Entry("k", "kept"));

        Task Put(PutRecordsRequest request) => _api.Streams.PutRecordsAsync(request, ApiNode.Deadline()).ResponseAsync;

        await ApiNode.AssertInvalidAsync(
            () => Put(new PutRecordsRequest { StreamName = name, ProducerId = 5, Records = { ApiNode.EntryAt(UInt128.Zero, "low"), ApiNode.EntryAt(UInt128.MaxValue, "high") } }),
            "idempotent", "one shard", "shardId-000000000000", "shardId-000000000001");
        await ApiNode.AssertInvalidAsync(
            () => Put(new PutRecordsRequest { StreamName = name, ProducerSequence = 3, Records = { ApiNode.Entry("k", "x") } }),
            "producer_sequence", "producer_id");
        await ApiNode.AssertInvalidAsync(
            () => Put(new PutRecordsRequest { StreamName = name, ProducerId = 5, ProducerSequence = -1, Records = { ApiNode.Entry("k", "x") } }),
            "producer_sequence", "-1", "0 to 2147483647");
        await ApiNode.AssertInvalidAsync(
            () => Put(new PutRecordsRequest { StreamName = name, ProducerId = 5, ProducerSequence = (long)int.MaxValue + 1, Records = { ApiNode.Entry("k", "x") } }),
            "producer_sequence", "2147483648");
        await ApiNode.AssertInvalidAsync(
            () => Put(new PutRecordsRequest { StreamName = name, ProducerId = ulong.MaxValue, Records = { ApiNode.Entry("k", "x") } }),
            "producer_id", ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var stored = await _api.ReadStreamAsync(name);
        Assert.Equal(["kept"], ApiNode.Texts(stored.Values.SelectMany(r => r)));
    }
}
