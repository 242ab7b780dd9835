using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Server.Tests.Api;

public sealed class SmokeTests
{
    [Fact]
    public async Task PutThenGetReturnsTheRecordsInOrder()
    {
        await using var api = await ApiNode.StartAsync();
        await api.CreateActiveStreamAsync("orders", 2);
        var put = new PutRecordsRequest { StreamName = "orders" };
        for (var i = 0; i < 20; i++)
        {
            put.Records.Add(ApiNode.Entry($"key-{i % 3}", $"record-{i}"));
        }

        var result = await api.Streams.PutRecordsAsync(put, ApiNode.Deadline());
        Assert.Equal(0, result.FailedRecordCount);
        var all = new List<Record>();
        foreach (var shard in (await api.Streams.ListShardsAsync(new ListShardsRequest { StreamName = "orders" }, ApiNode.Deadline())).Shards)
        {
            all.AddRange(await api.ReadShardAsync("orders", shard.ShardId));
        }

        Assert.Equal(20, all.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"record-{i}").Order(), all.Select(r => r.Data.ToStringUtf8()).Order());
    }
}
