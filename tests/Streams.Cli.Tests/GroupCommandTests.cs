using Google.Protobuf.WellKnownTypes;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class GroupCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Describe_prints_members_then_each_shard_checkpoint_and_lease()
    {
        var expires = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
        _server.Consumers.Checkpoints = new GetCheckpointsResponse
        {
            Generation = 4,
            InitialPosition = InitialPosition.TrimHorizon,
            Members = { new GroupMember { MemberId = "worker-a", LeaseCount = 1, ExpiresAt = expires } },
            Checkpoints =
            {
                new ShardCheckpoint { ShardId = "shardId-000000000000", ShardEnd = true },
                new ShardCheckpoint { ShardId = "shardId-000000000001", SequenceNumber = "00000000000000000007000002", Owner = "worker-a", LeaseEpoch = 3 },
                new ShardCheckpoint { ShardId = "shardId-000000000002" },
            },
        };

        var result = await _server.RunAsync("group", "describe", "orders", "billing");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new GetCheckpointsRequest { StreamName = "orders", GroupName = "billing" }, Assert.Single(_server.Consumers.Requests<GetCheckpointsRequest>()));
        Assert.Contains("group       billing", result.Lines);
        Assert.Contains("generation  4", result.Lines);
        Assert.Contains(result.Lines, l => l.StartsWith("worker-a  1", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("shardId-000000000000  SHARD_END", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l == "shardId-000000000001  00000000000000000007000002  worker-a  3");
        Assert.Contains(result.Lines, l => l.StartsWith("shardId-000000000002  -", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_sends_the_stream_and_group()
    {
        var result = await _server.RunAsync("group", "delete", "orders", "billing");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new DeleteGroupRequest { StreamName = "orders", GroupName = "billing" }, Assert.Single(_server.Consumers.Requests<DeleteGroupRequest>()));
        Assert.Contains("deleted group billing of orders", result.Lines);
    }
}
