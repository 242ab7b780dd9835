using System.Text.Json;
using Google.Protobuf;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Cli.Tests;

public sealed class GetCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeServer.StartAsync();
        _server.Streams.On<GetShardIteratorRequest, GetShardIteratorResponse>(r => new GetShardIteratorResponse { ShardIterator = $"{r.ShardId}/0" });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_shard_is_read_parents_first_across_pages_until_caught_up()
    {
        // Listed child first: the parent must still be read first.
        _server.Streams.On<ListShardsRequest, ListShardsResponse>(_ => new ListShardsResponse
        {
            Shards =
            {
                StreamCommandTests.Shard("shardId-000000000001", "0", "99", "10", "", parent: "shardId-000000000000"),
                StreamCommandTests.Shard("shardId-000000000000", "0", "99", "1", "9"),
            },
        });
        _server.Streams.On<GetRecordsRequest, GetRecordsResponse>(request => request.ShardIterator switch
        {
            "shardId-000000000000/0" => Page("shardId-000000000000/1", 500, Record("1", "a"), Record("2", "b")),
            // The parent is closed and read to its end: no next iterator.
            "shardId-000000000000/1" => Page("", 0, Record("3", "c")),
            "shardId-000000000001/0" => Page("shardId-000000000001/1", 0, Record("10", "d")),
            "shardId-000000000001/1" => Page("shardId-000000000001/2", 0),
            _ => throw new InvalidOperationException($"unexpected iterator {request.ShardIterator}"),
        });

        var result = await _server.RunAsync("get", "orders");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            [
                "shardId-000000000000 1 key-1 a",
                "shardId-000000000000 2 key-2 b",
                "shardId-000000000000 3 key-3 c",
                "shardId-000000000001 10 key-10 d",
            ],
            result.Lines);
        Assert.Equal(
            ["shardId-000000000000/0", "shardId-000000000000/1", "shardId-000000000001/0", "shardId-000000000001/1"],
            _server.Streams.Requests<GetRecordsRequest>().Select(r => r.ShardIterator));
        Assert.All(_server.Streams.Requests<GetShardIteratorRequest>(), r => Assert.Equal(ShardIteratorType.TrimHorizon, r.ShardIteratorType));
    }

    [Fact]
    public async Task One_shard_from_a_sequence_number_up_to_a_limit()
    {
        _server.Streams.On<GetRecordsRequest, GetRecordsResponse>(r => Page($"{r.ShardIterator}+", 1000, Record("5", "x"), Record("6", "y")));

        var result = await _server.RunAsync("get", "orders", "--shard", "shardId-000000000003", "--from", "after:4", "--limit", "3");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(3, result.Lines.Length);
        var iterator = Assert.Single(_server.Streams.Requests<GetShardIteratorRequest>());
        Assert.Equal(new GetShardIteratorRequest { StreamName = "orders", ShardId = "shardId-000000000003", ShardIteratorType = ShardIteratorType.AfterSequenceNumber, StartingSequenceNumber = "4" }, iterator);
        Assert.Equal([3, 1], _server.Streams.Requests<GetRecordsRequest>().Select(r => r.Limit));
        Assert.Empty(_server.Streams.Requests<ListShardsRequest>());
    }

    [Fact]
    public async Task Binary_data_prints_as_base64_and_json_has_the_whole_record()
    {
        var binary = new Record { SequenceNumber = "1", PartitionKey = "k", Data = ByteString.CopyFrom(0xff, 0x00, 0x10) };
        _server.Streams.On<GetRecordsRequest, GetRecordsResponse>(r => r.ShardIterator.EndsWith("/0", StringComparison.Ordinal) ? Page("next", 0, binary) : Page("next", 0));

        var text = await _server.RunAsync("get", "orders", "--shard", "shardId-000000000000");
        var json = await _server.RunAsync("get", "orders", "--shard", "shardId-000000000000", "--output", "json");

        Assert.Equal("shardId-000000000000 1 k base64:/wAQ", Assert.Single(text.Lines));
        using var document = JsonDocument.Parse(Assert.Single(json.Lines));
        Assert.Equal("shardId-000000000000", document.RootElement.GetProperty("shard_id").GetString());
        Assert.Equal("/wAQ", document.RootElement.GetProperty("record").GetProperty("data").GetString());
    }

    internal static Record Record(string sequence, string data) => new()
    {
        SequenceNumber = sequence,
        PartitionKey = $"key-{sequence}",
        Data = ByteString.CopyFromUtf8(data),
    };

    private static GetRecordsResponse Page(string next, long behind, params Record[] records) => new()
    {
        NextShardIterator = next,
        MillisBehindLatest = behind,
        Records = { records },
    };
}
