using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class TailCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Prints_pushed_records_from_every_open_shard_and_follows_children_until_cancelled()
    {
        _server.Streams.On<ListShardsRequest, ListShardsResponse>(_ => new ListShardsResponse
        {
            Shards =
            {
                StreamCommandTests.Shard("shardId-000000000000", "0", "49", "1", "5"),
                StreamCommandTests.Shard("shardId-000000000001", "0", "49", "6", ""),
                StreamCommandTests.Shard("shardId-000000000002", "50", "99", "7", ""),
            },
        });
        _server.Streams.OnSubscribe = async (request, events, context) =>
        {
            switch (request.ShardId)
            {
                case "shardId-000000000001":
                    await events.WriteAsync(new SubscribeToShardEvent { Records = { GetCommandTests.Record("20", "one") }, ContinuationSequenceNumber = "20" });
                    // The shard closes: its last event names the child.
                    await events.WriteAsync(new SubscribeToShardEvent
                    {
                        Records = { GetCommandTests.Record("21", "two") },
                        ContinuationSequenceNumber = "21",
                        ChildShards = { new ChildShard { ShardId = "shardId-000000000003", ParentShards = { "shardId-000000000001" } } },
                    });
                    return;
                case "shardId-000000000002":
                    await events.WriteAsync(new SubscribeToShardEvent { Records = { GetCommandTests.Record("30", "three") } });
                    break;
                case "shardId-000000000003":
                    await events.WriteAsync(new SubscribeToShardEvent { Records = { GetCommandTests.Record("40", "four") } });
                    break;
            }

            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        };

        using var output = new LockedWriter();
        using var error = new LockedWriter();
        using var stop = new CancellationTokenSource();
        var run = CliApp.RunAsync(["tail", "orders", "--endpoint", _server.Endpoint], TextReader.Null, output, error, stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < 4 && DateTime.UtcNow < deadline && !run.IsCompleted)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        var exitCode = await run;

        Assert.Equal(0, exitCode);
        Assert.Equal("", error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal);
        Assert.Equal(
            [
                "shardId-000000000001 20 key-20 one",
                "shardId-000000000001 21 key-21 two",
                "shardId-000000000002 30 key-30 three",
                "shardId-000000000003 40 key-40 four",
            ],
            lines);
        var subscriptions = _server.Streams.Requests<SubscribeToShardRequest>().OrderBy(r => r.ShardId, StringComparer.Ordinal).ToList();
        Assert.Equal(["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"], subscriptions.Select(r => r.ShardId));
        Assert.Equal([ShardIteratorType.Latest, ShardIteratorType.Latest, ShardIteratorType.TrimHorizon], subscriptions.Select(r => r.StartingPosition.Type));
    }
}
