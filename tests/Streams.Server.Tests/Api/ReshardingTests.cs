using System.Globalization;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Server.Tests.Api;

/// <summary>SplitShard, MergeShards and UpdateShardCount: the shard map after each, reading across them, and refusals.</summary>
public sealed class ReshardingTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private static readonly UInt128 _half = UInt128.One << 127;

    private readonly ApiNode _api = fixture.Api;

    private static string Id(int number) => $"shardId-{number:D12}";

    private static string Key(UInt128 key) => key.ToString(CultureInfo.InvariantCulture);

    private static PutRecordsRequestEntry[] Batch(string tag, int count) =>
        [.. Enumerable.Range(0, count).Select(i => ApiNode.Entry($"{tag}-key-{i}", $"{tag}-{i}"))];

    private static void AssertRange(Shard shard, UInt128 start, UInt128 end)
    {
        Assert.Equal(Key(start), shard.HashKeyRange.StartingHashKey);
        Assert.Equal(Key(end), shard.HashKeyRange.EndingHashKey);
    }

    /// <summary>Reads a closed shard to its end: the records, and the last GetRecords answer (with the children).</summary>
    private async Task<(List<Record> Records, GetRecordsResponse Last)> ReadClosedAsync(string stream, string shardId)
    {
        var iterator = await _api.IteratorAsync(stream, shardId, ShardIteratorType.TrimHorizon);
        var records = new List<Record>();
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 7 }, ApiNode.Deadline());
            records.AddRange(page.Records);
            if (page.NextShardIterator.Length == 0)
            {
                return (records, page);
            }

            Assert.Empty(page.ChildShards);
            iterator = page.NextShardIterator;
        }

        throw new InvalidOperationException($"{shardId} never reached its end");
    }

    /// <summary>Reads parents to their end, then children, and checks every record put is read once.</summary>
    private async Task AssertEveryRecordReadOnceAsync(string stream, IEnumerable<string> expected)
    {
        var read = new List<string>();
        foreach (var shard in await _api.ListShardsAsync(stream))
        {
            read.AddRange(ApiNode.Texts(await _api.ReadShardAsync(stream, shard.ShardId)));
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SplitShard_closes_the_parent_and_opens_two_children_and_reading_goes_on_in_them()
    {
        var name = await _api.NewActiveStreamAsync("split", 1);
        var before = Batch("before", 30);
        await _api.PutAsync(name, before);

        await _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = name, ShardToSplit = Id(0), NewStartingHashKey = Key(_half) }, ApiNode.Deadline());
        var after = Batch("after", 30);
        var afterPut = await _api.PutAsync(name, after);
        await _api.WaitActiveAsync(name);

        var summary = await _api.DescribeAsync(name);
        Assert.Equal(2, summary.OpenShardCount);
        Assert.Equal(3, summary.ShardCount);

        var shards = await _api.ListShardsAsync(name);
        Assert.Equal([Id(0), Id(1), Id(2)], shards.Select(s => s.ShardId));
        var parent = shards[0];
        Assert.NotEmpty(parent.SequenceNumberRange.EndingSequenceNumber);
        AssertRange(parent, UInt128.Zero, UInt128.MaxValue);
        AssertRange(shards[1], UInt128.Zero, _half - 1);
        AssertRange(shards[2], _half, UInt128.MaxValue);
        foreach (var child in shards.Skip(1))
        {
            Assert.Equal(Id(0), child.ParentShardId);
            Assert.Empty(child.AdjacentParentShardId);
            Assert.Equal([Id(0)], child.ParentShardIds);
            Assert.Empty(child.SequenceNumberRange.EndingSequenceNumber);
        }

        // Records put after the split went to the children, by hash.
        for (var i = 0; i < after.Length; i++)
        {
            Assert.Equal(ApiNode.Holding(shards.Skip(1), ApiNode.HashOf(after[i].PartitionKey)).ShardId, afterPut.Records[i].ShardId);
        }

        // The parent read to its end: every record before, then the children and no next iterator.
        var (parentRecords, last) = await ReadClosedAsync(name, Id(0));
        Assert.Equal(ApiNode.Texts(before.Select(e => new Record { Data = e.Data })), ApiNode.Texts(parentRecords));
        Assert.Equal(parentRecords[^1].SequenceNumber, parent.SequenceNumberRange.EndingSequenceNumber);
        Assert.Empty(last.NextShardIterator);
        Assert.Equal([Id(1), Id(2)], last.ChildShards.Select(c => c.ShardId));
        Assert.All(last.ChildShards, c => Assert.Equal([Id(0)], c.ParentShards));
        Assert.Equal(Key(_half - 1), last.ChildShards[0].HashKeyRange.EndingHashKey);
        Assert.Equal(Key(_half), last.ChildShards[1].HashKeyRange.StartingHashKey);

        // From the parent's last record, GetRecords answers at once with the children.
        var atEnd = await _api.IteratorAsync(name, Id(0), ShardIteratorType.AfterSequenceNumber, parent.SequenceNumberRange.EndingSequenceNumber);
        var end = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = atEnd }, ApiNode.Deadline());
        Assert.Empty(end.Records);
        Assert.Empty(end.NextShardIterator);
        Assert.Equal(2, end.ChildShards.Count);
        Assert.Equal(0, end.MillisBehindLatest);

        await AssertEveryRecordReadOnceAsync(name, ApiNode.Texts(before.Concat(after).Select(e => new Record { Data = e.Data })));

        // A subscriber to the closed parent gets its records, then an event with the children, then the end.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = _api.Streams.SubscribeToShard(new SubscribeToShardRequest { StreamName = name, ShardId = Id(0), StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon } }, new CallOptions { CancellationToken = timeout.Token });
        var events = new List<SubscribeToShardEvent>();
        while (await call.ResponseStream.MoveNext(timeout.Token))
        {
            events.Add(call.ResponseStream.Current);
        }

        Assert.Equal(before.Length, events.Sum(e => e.Records.Count));
        Assert.Equal([Id(1), Id(2)], events[^1].ChildShards.Select(c => c.ShardId));
        Assert.All(events.SkipLast(1), e => Assert.Empty(e.ChildShards));
    }

    [Fact]
    public async Task A_shard_closed_without_records_reads_to_its_end_at_once()
    {
        var name = await _api.NewActiveStreamAsync("split-empty", 1);
        await _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = name, ShardToSplit = Id(0), NewStartingHashKey = Key(_half) }, ApiNode.Deadline());
        await _api.WaitActiveAsync(name);

        var parent = (await _api.ListShardsAsync(name))[0];
        Assert.NotEmpty(parent.SequenceNumberRange.EndingSequenceNumber);
        var (records, last) = await ReadClosedAsync(name, Id(0));
        Assert.Empty(records);
        Assert.Equal([Id(1), Id(2)], last.ChildShards.Select(c => c.ShardId));

        var atEnd = await _api.IteratorAsync(name, Id(0), ShardIteratorType.AtSequenceNumber, parent.SequenceNumberRange.EndingSequenceNumber);
        var end = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = atEnd }, ApiNode.Deadline());
        Assert.Empty(end.Records);
        Assert.Empty(end.NextShardIterator);
        Assert.Equal(2, end.ChildShards.Count);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = _api.Streams.SubscribeToShard(new SubscribeToShardRequest { StreamName = name, ShardId = Id(0), StartingPosition = new StartingPosition { Type = ShardIteratorType.Latest } }, new CallOptions { CancellationToken = timeout.Token });
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Empty(call.ResponseStream.Current.Records);
        Assert.Equal([Id(1), Id(2)], call.ResponseStream.Current.ChildShards.Select(c => c.ShardId));
        Assert.False(await call.ResponseStream.MoveNext(timeout.Token));
    }

    [Fact]
    public async Task MergeShards_closes_both_parents_and_opens_one_child_over_both_ranges()
    {
        var name = await _api.NewActiveStreamAsync("merge", 2);
        var before = Batch("before", 30);
        await _api.PutAsync(name, before);

        await _api.Streams.MergeShardsAsync(new MergeShardsRequest { StreamName = name, ShardToMerge = Id(1), AdjacentShardToMerge = Id(0) }, ApiNode.Deadline());
        var after = Batch("after", 20);
        var afterPut = await _api.PutAsync(name, after);
        Assert.All(afterPut.Records, r => Assert.Equal(Id(2), r.ShardId));
        await _api.WaitActiveAsync(name);

        var shards = await _api.ListShardsAsync(name);
        Assert.Equal([Id(0), Id(1), Id(2)], shards.Select(s => s.ShardId));
        Assert.All(shards.Take(2), s => Assert.NotEmpty(s.SequenceNumberRange.EndingSequenceNumber));
        var child = shards[2];
        AssertRange(child, UInt128.Zero, UInt128.MaxValue);
        Assert.Empty(child.SequenceNumberRange.EndingSequenceNumber);
        Assert.Equal(Id(1), child.ParentShardId);
        Assert.Equal(Id(0), child.AdjacentParentShardId);
        Assert.Equal([Id(1), Id(0)], child.ParentShardIds);
        Assert.Equal(1, (await _api.DescribeAsync(name)).OpenShardCount);

        foreach (var parent in new[] { Id(0), Id(1) })
        {
            var (_, last) = await ReadClosedAsync(name, parent);
            var only = Assert.Single(last.ChildShards);
            Assert.Equal(Id(2), only.ShardId);
            Assert.Equal([Id(1), Id(0)], only.ParentShards);
            Assert.Empty(last.NextShardIterator);
        }

        await AssertEveryRecordReadOnceAsync(name, ApiNode.Texts(before.Concat(after).Select(e => new Record { Data = e.Data })));
    }

    [Fact]
    public async Task UpdateShardCount_replaces_the_open_shards_with_an_even_split_up_and_down()
    {
        var name = await _api.NewActiveStreamAsync("scale", 2);
        var first = Batch("first", 20);
        await _api.PutAsync(name, first);

        var up = await _api.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = name, TargetShardCount = 3, ScalingType = ScalingType.UniformScaling }, ApiNode.Deadline());
        Assert.Equal(name, up.StreamName);
        Assert.Equal(2, up.CurrentShardCount);
        Assert.Equal(3, up.TargetShardCount);
        var second = Batch("second", 20);
        await _api.PutAsync(name, second);
        await _api.WaitActiveAsync(name);

        var shards = await _api.ListShardsAsync(name);
        Assert.Equal(5, shards.Count);
        Assert.All(shards.Take(2), s => Assert.NotEmpty(s.SequenceNumberRange.EndingSequenceNumber));
        var open = shards.Skip(2).ToList();
        AssertEvenSplit(open);
        Assert.Equal([Id(0)], open[0].ParentShardIds);
        Assert.Equal([Id(0), Id(1)], open[1].ParentShardIds);
        Assert.Equal(Id(0), open[1].ParentShardId);
        Assert.Equal(Id(1), open[1].AdjacentParentShardId);
        Assert.Equal([Id(1)], open[2].ParentShardIds);
        var (_, endOf0) = await ReadClosedAsync(name, Id(0));
        Assert.Equal([Id(2), Id(3)], endOf0.ChildShards.Select(c => c.ShardId));

        // Down again, with the scaling type left unspecified (UNIFORM_SCALING).
        var down = await _api.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = name, TargetShardCount = 2 }, ApiNode.Deadline());
        Assert.Equal(3, down.CurrentShardCount);
        Assert.Equal(2, down.TargetShardCount);
        var third = Batch("third", 20);
        await _api.PutAsync(name, third);
        await _api.WaitActiveAsync(name);

        shards = await _api.ListShardsAsync(name);
        Assert.Equal(7, shards.Count);
        Assert.All(shards.Take(5), s => Assert.NotEmpty(s.SequenceNumberRange.EndingSequenceNumber));
        AssertEvenSplit(shards.Skip(5).ToList());
        Assert.Equal([Id(2), Id(3)], shards[5].ParentShardIds);
        Assert.Equal([Id(3), Id(4)], shards[6].ParentShardIds);
        Assert.Equal(2, (await _api.DescribeAsync(name)).OpenShardCount);

        await AssertEveryRecordReadOnceAsync(name, ApiNode.Texts(first.Concat(second).Concat(third).Select(e => new Record { Data = e.Data })));
    }

    private static void AssertEvenSplit(List<Shard> open)
    {
        Assert.Equal(UInt128.Zero, ApiNode.StartOf(open[0]));
        Assert.Equal(UInt128.MaxValue, ApiNode.EndOf(open[^1]));
        var size = (UInt128.MaxValue / (uint)open.Count) + 1;
        for (var i = 0; i < open.Count; i++)
        {
            Assert.Empty(open[i].SequenceNumberRange.EndingSequenceNumber);
            if (i > 0)
            {
                Assert.Equal(ApiNode.EndOf(open[i - 1]) + 1, ApiNode.StartOf(open[i]));
            }

            var width = ApiNode.EndOf(open[i]) - ApiNode.StartOf(open[i]) + 1;
            Assert.True(width >= size - 1 && width <= size + 1, $"shard {open[i].ShardId} spans {width} keys; an even split spans about {size}");
        }
    }

    [Fact]
    public async Task Resharding_refusals_name_the_field_and_change_nothing()
    {
        var name = await _api.NewActiveStreamAsync("reshard-bad", 3);
        var put = Batch("kept", 15);
        await _api.PutAsync(name, put);
        var shards = await _api.ListShardsAsync(name);

        Task Split(string shard, string key) => _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = name, ShardToSplit = shard, NewStartingHashKey = key }, ApiNode.Deadline()).ResponseAsync;
        Task Merge(string a, string b) => _api.Streams.MergeShardsAsync(new MergeShardsRequest { StreamName = name, ShardToMerge = a, AdjacentShardToMerge = b }, ApiNode.Deadline()).ResponseAsync;
        Task Scale(int target, ScalingType type = ScalingType.UniformScaling) => _api.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = name, TargetShardCount = target, ScalingType = type }, ApiNode.Deadline()).ResponseAsync;

        var shard1 = shards[1];
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), Key(ApiNode.StartOf(shard1))), "new_starting_hash_key", "more than", shard1.HashKeyRange.StartingHashKey);
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), Key(ApiNode.EndOf(shard1) + 1)), "new_starting_hash_key", "at most", shard1.HashKeyRange.EndingHashKey);
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), "0"), "new_starting_hash_key", "more than");
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), "12abc"), "new_starting_hash_key", "[0, 2^128 - 1]");
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), ""), "new_starting_hash_key", "[0, 2^128 - 1]");
        await ApiNode.AssertInvalidAsync(() => Split(Id(1), "340282366920938463463374607431768211456"), "new_starting_hash_key", "[0, 2^128 - 1]");
        await ApiNode.AssertInvalidAsync(() => Split("shard-1", Key(_half)), "shard_to_split", "shardId-000000000000");
        await ApiNode.AssertFailsAsync(() => Split(Id(7), Key(_half)), StatusCode.NotFound, StreamsErrors.ResourceNotFound, Id(7), "shard_to_split");

        await ApiNode.AssertInvalidAsync(() => Merge(Id(0), Id(2)), "not adjacent", Id(0), Id(2));
        await ApiNode.AssertInvalidAsync(() => Merge(Id(1), Id(1)), "shard_to_merge", "adjacent_shard_to_merge", "both");
        await ApiNode.AssertInvalidAsync(() => Merge(Id(1), "nope"), "adjacent_shard_to_merge", "shardId-000000000000");
        await ApiNode.AssertFailsAsync(() => Merge(Id(9), Id(1)), StatusCode.NotFound, StreamsErrors.ResourceNotFound, Id(9), "shard_to_merge");

        await ApiNode.AssertFailsAsync(() => Scale(7), StatusCode.ResourceExhausted, StreamsErrors.LimitExceeded, "target_shard_count", "double", "at most 6");
        await ApiNode.AssertFailsAsync(() => Scale(1), StatusCode.ResourceExhausted, StreamsErrors.LimitExceeded, "target_shard_count", "half", "at least 2");
        await ApiNode.AssertFailsAsync(() => Scale(501), StatusCode.ResourceExhausted, StreamsErrors.LimitExceeded, "target_shard_count", "500");
        await ApiNode.AssertInvalidAsync(() => Scale(0), "target_shard_count", "at least 1");
        await ApiNode.AssertInvalidAsync(() => Scale(-3), "target_shard_count", "at least 1");
        await ApiNode.AssertInvalidAsync(() => Scale(3), "target_shard_count", "already");
        await ApiNode.AssertInvalidAsync(() => Scale(4, (ScalingType)9), "scaling_type", "UNIFORM_SCALING");
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = name + "-missing", TargetShardCount = 2 }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name + "-missing");

        // Nothing changed.
        var summary = await _api.DescribeAsync(name);
        Assert.Equal(StreamStatus.Active, summary.StreamStatus);
        Assert.Equal(3, summary.ShardCount);
        Assert.Equal(shards, await _api.ListShardsAsync(name));
        await AssertEveryRecordReadOnceAsync(name, ApiNode.Texts(put.Select(e => new Record { Data = e.Data })));

        // A closed shard can be neither split nor merged.
        await Split(Id(0), Key(ApiNode.EndOf(shards[0]) / 2));
        await _api.WaitActiveAsync(name);
        await ApiNode.AssertInvalidAsync(() => Split(Id(0), Key(ApiNode.EndOf(shards[0]) / 2)), "closed", Id(0));
        await ApiNode.AssertInvalidAsync(() => Merge(Id(0), Id(1)), "closed", Id(0));
    }
}
