using Streams.Client.Api;
using Streams.Client.Routing;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Metadata;

/// <summary>Each rule refuses with the Kinesis error name and a message that says what to change, and changes nothing.</summary>
public sealed class RefusalTests
{
    private readonly TestController _controller = TestController.Bootstrapped(3, MetadataLimits.Default with { MaxStreams = 3, MaxShardsPerStream = 8 });

    private void AssertRefused(ControllerCommand command, string errorName, string messagePart)
    {
        var error = _controller.Refused(command);
        Assert.Equal(errorName, error.Name);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Commands_before_bootstrap_are_refused()
    {
        var controller = new TestController();
        var error = controller.Refused(controller.Create("s", 1));
        Assert.Equal(StreamsErrors.ResourceInUse, error.Name);
        Assert.Contains("not bootstrapped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bootstrap_is_refused_twice_and_needs_a_32_byte_secret_and_distinct_nodes()
    {
        AssertRefused(TestController.Bootstrap(3), StreamsErrors.ResourceInUse, "already bootstrapped");

        var fresh = new TestController();
        var command = TestController.Bootstrap(2);
        command.Bootstrap.IteratorSecret = Google.Protobuf.ByteString.CopyFrom(new byte[16]);
        Assert.Contains("iterator_secret must be 32 random bytes", fresh.Refused(command).Message, StringComparison.Ordinal);

        command = TestController.Bootstrap(2);
        command.Bootstrap.Nodes[1].NodeId = "node-1";
        Assert.Contains("twice", fresh.Refused(command).Message, StringComparison.Ordinal);

        command = TestController.Bootstrap(2);
        command.Bootstrap.Nodes[1].RaftId = 1;
        Assert.Contains("different positive raft_id", fresh.Refused(command).Message, StringComparison.Ordinal);

        command = TestController.Bootstrap(1);
        command.Bootstrap.Nodes[0].Address = "10.0.0.1";
        Assert.Contains("gRPC address", fresh.Refused(command).Message, StringComparison.Ordinal);

        command = TestController.Bootstrap(1);
        command.Bootstrap.Limits = (MetadataLimits.Default with { DefaultRetentionHours = 1 }).ToSpec();
        Assert.Contains("default_retention_hours", fresh.Refused(command).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("ünïcode")]
    public void CreateStream_refuses_a_bad_name(string name) =>
        AssertRefused(_controller.Create(name, 1), StreamsErrors.InvalidArgument, "stream_name");

    [Fact]
    public void CreateStream_refuses_a_name_longer_than_128() =>
        AssertRefused(_controller.Create(new string('a', 129), 1), StreamsErrors.InvalidArgument, "1 to 128 characters of letters, digits, '_', '.' and '-'");

    [Fact]
    public void CreateStream_accepts_a_name_of_128_allowed_characters() =>
        _controller.Ok(_controller.Create("a-b_c.D9" + new string('x', 120), 1));

    [Fact]
    public void CreateStream_refuses_an_existing_or_deleting_name()
    {
        _controller.Ok(_controller.Create("s", 1));
        AssertRefused(_controller.Create("s", 2), StreamsErrors.ResourceInUse, "Stream 's' already exists");
        _controller.Ok(TestController.Delete("s"));
        AssertRefused(_controller.Create("s", 2), StreamsErrors.ResourceInUse, "is being deleted");
    }

    [Fact]
    public void CreateStream_refuses_beyond_the_stream_limit()
    {
        for (var i = 0; i < 3; i++)
        {
            _controller.Ok(_controller.Create($"s{i}", 1));
        }

        AssertRefused(_controller.Create("s3", 1), StreamsErrors.LimitExceeded, "holds 3 streams, the most it allows");
    }

    [Fact]
    public void CreateStream_refuses_bad_shard_counts()
    {
        AssertRefused(_controller.Create("s", 0), StreamsErrors.InvalidArgument, "shard_count must be at least 1; it is 0");
        AssertRefused(_controller.Create("s", -3), StreamsErrors.InvalidArgument, "shard_count must be at least 1");
        AssertRefused(_controller.Create("s", 9), StreamsErrors.LimitExceeded, "above the limit of 8 shards per stream");
    }

    [Fact]
    public void CreateStream_refuses_retention_out_of_bounds()
    {
        AssertRefused(_controller.Create("s", 1, retentionHours: 23), StreamsErrors.InvalidArgument, "retention_period_hours must be between 24 and 8760 (0 means 24); it is 23");
        AssertRefused(_controller.Create("s", 1, retentionHours: 8761), StreamsErrors.InvalidArgument, "between 24 and 8760");
    }

    [Fact]
    public void CreateStream_refuses_a_replication_factor_above_the_nodes()
    {
        AssertRefused(_controller.Create("s", 1, replicationFactor: 4), StreamsErrors.InvalidArgument, "replication_factor must be between 1 and 3 (3 nodes take replicas");
        AssertRefused(_controller.Create("s", 1, replicationFactor: -1), StreamsErrors.InvalidArgument, "replication_factor");
    }

    [Fact]
    public void Operations_on_a_missing_stream_are_not_found()
    {
        AssertRefused(TestController.Delete("nope"), StreamsErrors.ResourceNotFound, "Stream 'nope' not found");
        AssertRefused(_controller.Split("nope", "shardId-000000000000", "1"), StreamsErrors.ResourceNotFound, "Stream 'nope' not found");
        AssertRefused(_controller.Merge("nope", "shardId-000000000000", "shardId-000000000001"), StreamsErrors.ResourceNotFound, "not found");
        AssertRefused(_controller.UpdateCount("nope", 2), StreamsErrors.ResourceNotFound, "not found");
        AssertRefused(TestController.Increase("nope", 48), StreamsErrors.ResourceNotFound, "not found");
        AssertRefused(TestController.Decrease("", 48), StreamsErrors.InvalidArgument, "stream_name is required");
    }

    [Fact]
    public void Resharding_needs_an_active_stream()
    {
        _controller.Ok(_controller.Create("s", 2));
        AssertRefused(_controller.Split("s", "shardId-000000000000", "1"), StreamsErrors.ResourceInUse, "Stream 's' is CREATING; SplitShard needs it ACTIVE");
        _controller.Settle();
        _controller.Ok(_controller.UpdateCount("s", 3));
        AssertRefused(_controller.Merge("s", "shardId-000000000002", "shardId-000000000003"), StreamsErrors.ResourceInUse, "is UPDATING; MergeShards needs it ACTIVE");
        _controller.Settle();
        _controller.Ok(TestController.Delete("s"));
        AssertRefused(_controller.UpdateCount("s", 4), StreamsErrors.ResourceInUse, "is DELETING; UpdateShardCount needs it ACTIVE");
    }

    [Fact]
    public void SplitShard_refuses_bad_shards_and_keys()
    {
        _controller.CreateActive("s", 2);
        var first = _controller.Stream("s").Shards[0].HashKeyRange;
        AssertRefused(_controller.Split("s", "shard-0", "1"), StreamsErrors.InvalidArgument, "shard_to_split must be a shard id like shardId-000000000000");
        AssertRefused(_controller.Split("s", "shardId-000000000009", "1"), StreamsErrors.ResourceNotFound, "Shard 'shardId-000000000009' (shard_to_split) not found in stream 's'");
        AssertRefused(_controller.Split("s", "shardId-000000000000", "twelve"), StreamsErrors.InvalidArgument, "new_starting_hash_key must be a decimal integer in [0, 2^128 - 1]");
        AssertRefused(_controller.Split("s", "shardId-000000000000", first.Start), StreamsErrors.InvalidArgument, "new_starting_hash_key must be more than 0 and at most " + HashKey.Format(first.End));
        AssertRefused(_controller.Split("s", "shardId-000000000000", first.End + 1), StreamsErrors.InvalidArgument, "inside shard shardId-000000000000's hash-key range");

        _controller.Ok(_controller.Split("s", "shardId-000000000000", first.End));
        _controller.Settle();
        AssertRefused(_controller.Split("s", "shardId-000000000000", 5u), StreamsErrors.InvalidArgument, "Shard shardId-000000000000 of stream 's' is closed; split an open shard");
    }

    [Fact]
    public void SplitShard_refuses_beyond_the_shard_limit()
    {
        _controller.CreateActive("s", 8);
        AssertRefused(_controller.Split("s", "shardId-000000000000", 5u), StreamsErrors.LimitExceeded, "has 8 open shards, the most a stream may have");
    }

    [Fact]
    public void MergeShards_refuses_the_same_shard_closed_shards_and_shards_that_do_not_touch()
    {
        _controller.CreateActive("s", 3);
        AssertRefused(_controller.Merge("s", "shardId-000000000001", "shardId-000000000001"), StreamsErrors.InvalidArgument, "both shardId-000000000001; name two different, adjacent shards");
        AssertRefused(_controller.Merge("s", "shardId-000000000000", "shardId-000000000002"), StreamsErrors.InvalidArgument, "are not adjacent");
        AssertRefused(_controller.Merge("s", "shardId-000000000000", "bad"), StreamsErrors.InvalidArgument, "adjacent_shard_to_merge must be a shard id");
        AssertRefused(_controller.Merge("s", "shardId-000000000007", "shardId-000000000000"), StreamsErrors.ResourceNotFound, "(shard_to_merge) not found");
        _controller.Ok(_controller.Merge("s", "shardId-000000000001", "shardId-000000000000"));
        _controller.Settle();
        AssertRefused(_controller.Merge("s", "shardId-000000000003", "shardId-000000000001"), StreamsErrors.InvalidArgument, "Shard shardId-000000000001 of stream 's' is closed; merge two open shards");
    }

    [Fact]
    public void UpdateShardCount_keeps_between_half_and_double_and_under_the_limit()
    {
        _controller.CreateActive("s", 3);
        AssertRefused(_controller.UpdateCount("s", 7), StreamsErrors.LimitExceeded, "more than double the 3 open shards of stream 's'; scale up to at most 6");
        AssertRefused(_controller.UpdateCount("s", 1), StreamsErrors.LimitExceeded, "less than half the 3 open shards of stream 's'; scale down to at least 2");
        AssertRefused(_controller.UpdateCount("s", 0), StreamsErrors.InvalidArgument, "target_shard_count must be at least 1");
        AssertRefused(_controller.UpdateCount("s", 3), StreamsErrors.InvalidArgument, "already has 3 evenly split open shards");
        AssertRefused(_controller.UpdateCount("s", 4, scalingType: 2), StreamsErrors.InvalidArgument, "use UNIFORM_SCALING");
        _controller.Ok(_controller.UpdateCount("s", 6));
        _controller.Settle();
        AssertRefused(_controller.UpdateCount("s", 9), StreamsErrors.LimitExceeded, "above the limit of 8 shards per stream");
    }

    [Fact]
    public void Retention_must_move_in_the_asked_direction_within_bounds()
    {
        _controller.CreateActive("s", 1);
        AssertRefused(TestController.Increase("s", 24), StreamsErrors.InvalidArgument, "retention_period_hours (24) must be more than the stream's current 24 hours; DecreaseStreamRetentionPeriod shortens it");
        AssertRefused(TestController.Increase("s", 8761), StreamsErrors.InvalidArgument, "between 24 and 8760; it is 8761");
        AssertRefused(TestController.Decrease("s", 24), StreamsErrors.InvalidArgument, "must be less than the stream's current 24 hours");
        _controller.Ok(TestController.Increase("s", 100));
        Assert.Equal(100, _controller.Stream("s").RetentionHours);
        AssertRefused(TestController.Decrease("s", 12), StreamsErrors.InvalidArgument, "between 24 and 8760; it is 12");
        _controller.Ok(TestController.Decrease("s", 24));
        Assert.Equal(24, _controller.Stream("s").RetentionHours);
    }

    [Fact]
    public void An_empty_command_is_refused() =>
        AssertRefused(new ControllerCommand(), StreamsErrors.InvalidArgument, "empty");

    [Fact]
    public void A_seal_report_needs_a_sequence_number_and_a_closed_shard()
    {
        var stream = _controller.CreateActive("s", 1);
        var group = stream.Shards[0].GroupId;
        var bad = new ControllerCommand { ReportShardSealed = new ReportShardSealedCommand { GroupId = group, EndingSequenceNumber = "12" } };
        AssertRefused(bad, StreamsErrors.InvalidArgument, "ending_sequence_number must be a sequence number");
        AssertRefused(TestController.Sealed(group, new SequenceNumber(5, 0)), StreamsErrors.InvalidArgument, "is open; only a closed shard's group seals");
    }
}
