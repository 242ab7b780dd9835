using System.Globalization;
using Google.Protobuf;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>PutRecord and PutRecords: a result per record, routing by explicit hash key and by MD5, order per shard.</summary>
public sealed class PutRecordsTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    [Fact]
    public async Task PutRecords_answers_each_record_in_request_order_with_increasing_sequence_numbers_per_shard()
    {
        var name = await _api.NewActiveStreamAsync("results", 4);
        var shards = await _api.ListShardsAsync(name);
        var request = new PutRecordsRequest { StreamName = name };
        for (var i = 0; i < 100; i++)
        {
            request.Records.Add(ApiNode.Entry($"key-{i}", $"record-{i}"));
        }

        var response = await _api.Streams.PutRecordsAsync(request, ApiNode.Deadline());
        Assert.Equal(0, response.FailedRecordCount);
        Assert.Equal(100, response.Records.Count);
        for (var i = 0; i < 100; i++)
        {
            var result = response.Records[i];
            Assert.Empty(result.ErrorCode);
            Assert.Empty(result.ErrorMessage);
            Assert.Equal(ApiNode.Holding(shards, ApiNode.HashOf($"key-{i}")).ShardId, result.ShardId);
        }

        // Within a shard, in request order, each sequence number is above the one before.
        foreach (var group in response.Records.GroupBy(r => r.ShardId))
        {
            var sequences = group.Select(r => r.SequenceNumber).ToList();
            for (var i = 1; i < sequences.Count; i++)
            {
                Assert.True(ApiNode.CompareSequence(sequences[i - 1], sequences[i]) < 0, $"{sequences[i - 1]} then {sequences[i]}");
            }
        }

        // A later request gets higher sequence numbers in each shard.
        var later = await _api.PutAsync(name, ApiNode.Entry("key-0", "later"));
        var earlier = response.Records.Where(r => r.ShardId == later.Records[0].ShardId).Select(r => r.SequenceNumber).Max(StringComparer.Ordinal)!;
        Assert.True(ApiNode.CompareSequence(earlier, later.Records[0].SequenceNumber) < 0);

        // And the records read back carry what was put, with the returned sequence numbers.
        var stored = await _api.ReadStreamAsync(name);
        Assert.Equal(101, stored.Values.Sum(r => r.Count));
        for (var i = 0; i < 100; i++)
        {
            var record = Assert.Single(stored[response.Records[i].ShardId], r => r.SequenceNumber == response.Records[i].SequenceNumber);
            Assert.Equal($"record-{i}", record.Data.ToStringUtf8());
            Assert.Equal($"key-{i}", record.PartitionKey);
            Assert.Empty(record.ExplicitHashKey);
            Assert.NotNull(record.ApproximateArrivalTimestamp);
        }
    }

    [Fact]
    public async Task PutRecord_answers_the_shard_and_sequence_number()
    {
        var name = await _api.NewActiveStreamAsync("single", 2);
        var shards = await _api.ListShardsAsync(name);
        var put = await _api.Streams.PutRecordAsync(new PutRecordRequest { StreamName = name, PartitionKey = "customer-7", Data = ByteString.CopyFromUtf8("hello") }, ApiNode.Deadline());
        Assert.Equal(ApiNode.Holding(shards, ApiNode.HashOf("customer-7")).ShardId, put.ShardId);
        var record = Assert.Single(await _api.ReadShardAsync(name, put.ShardId));
        Assert.Equal(put.SequenceNumber, record.SequenceNumber);
        Assert.Equal("hello", record.Data.ToStringUtf8());

        // Empty data is a record too.
        var empty = await _api.Streams.PutRecordAsync(new PutRecordRequest { StreamName = name, PartitionKey = "customer-7" }, ApiNode.Deadline());
        Assert.Equal(put.ShardId, empty.ShardId);
        Assert.True(ApiNode.CompareSequence(put.SequenceNumber, empty.SequenceNumber) < 0);
    }

    [Fact]
    public async Task An_explicit_hash_key_routes_to_the_shard_whose_range_holds_it()
    {
        var name = await _api.NewActiveStreamAsync("explicit", 3);
        var shards = await _api.ListShardsAsync(name);
        var keys = new List<UInt128>();
        foreach (var shard in shards)
        {
            keys.Add(ApiNode.StartOf(shard));
            keys.Add(ApiNode.EndOf(shard));
            keys.Add(ApiNode.StartOf(shard) + ((ApiNode.EndOf(shard) - ApiNode.StartOf(shard)) / 2));
        }

        var entries = keys.Select((k, i) => ApiNode.EntryAt(k, $"e-{i}")).ToArray();
        var response = await _api.PutAsync(name, entries);
        for (var i = 0; i < keys.Count; i++)
        {
            Assert.Equal(shards[i / 3].ShardId, response.Records[i].ShardId);
        }

        // PutRecord takes it too, over the partition key's hash.
        var single = await _api.Streams.PutRecordAsync(new PutRecordRequest { StreamName = name, PartitionKey = "ignored", ExplicitHashKey = "0", Data = ByteString.CopyFromUtf8("x") }, ApiNode.Deadline());
        Assert.Equal(shards[0].ShardId, single.ShardId);

        // The key is kept with the record.
        var stored = await _api.ReadShardAsync(name, shards[2].ShardId);
        Assert.Equal(UInt128.MaxValue.ToString(CultureInfo.InvariantCulture), Assert.Single(stored, r => r.Data.ToStringUtf8() == "e-7").ExplicitHashKey);
    }

    [Fact]
    public async Task Partition_keys_route_by_md5_and_keep_their_order_in_one_shard()
    {
        var name = await _api.NewActiveStreamAsync("md5", 4);
        var shards = await _api.ListShardsAsync(name);
        var keys = Enumerable.Range(0, 12).Select(i => $"user-{i}").ToList();
        var expectedShard = keys.ToDictionary(k => k, k => ApiNode.Holding(shards, ApiNode.HashOf(k)).ShardId);

        // Several requests, records of each key interleaved.
        for (var round = 0; round < 5; round++)
        {
            var entries = keys.Select(k => ApiNode.Entry(k, $"{k}#{round}")).ToArray();
            var response = await _api.PutAsync(name, entries);
            for (var i = 0; i < keys.Count; i++)
            {
                Assert.Equal(expectedShard[keys[i]], response.Records[i].ShardId);
            }
        }

        var stored = await _api.ReadStreamAsync(name);
        foreach (var key in keys)
        {
            var holding = stored.Where(s => s.Value.Any(r => r.PartitionKey == key)).Select(s => s.Key).ToList();
            Assert.Equal([expectedShard[key]], holding);
            var ofKey = stored[expectedShard[key]].Where(r => r.PartitionKey == key).ToList();
            Assert.Equal(Enumerable.Range(0, 5).Select(r => $"{key}#{r}"), ApiNode.Texts(ofKey));
        }

        // Several shards got records: the keys spread.
        Assert.True(expectedShard.Values.Distinct().Count() > 1);
    }

    [Fact]
    public async Task Records_of_one_key_put_one_at_a_time_read_back_in_order()
    {
        var name = await _api.NewActiveStreamAsync("order", 2);
        for (var i = 0; i < 20; i++)
        {
            await _api.Streams.PutRecordAsync(new PutRecordRequest { StreamName = name, PartitionKey = "the-key", Data = ByteString.CopyFromUtf8($"{i:D2}") }, ApiNode.Deadline());
        }

        var shard = ApiNode.Holding(await _api.ListShardsAsync(name), ApiNode.HashOf("the-key")).ShardId;
        var records = await _api.ReadShardAsync(name, shard);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i:D2}"), ApiNode.Texts(records));
        Assert.Equal(records.Select(r => r.SequenceNumber).Order(Comparer<string>.Create(ApiNode.CompareSequence)), records.Select(r => r.SequenceNumber));
    }
}
