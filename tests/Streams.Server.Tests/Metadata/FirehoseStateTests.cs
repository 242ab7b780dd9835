using Streams.Client.Api;
using Streams.Server.Api;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Firehose;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>Delivery streams and two-phase checkpoints in the controller.</summary>
public sealed class FirehoseStateTests
{
    private const long T0 = 1_800_000_000_000;

    private readonly TestController _controller = TestController.Bootstrapped(3);

    private static string Id(int number) => ShardIds.Format(number);

    private static string Seq(long index, int position = 0) => new SequenceNumber(index, position).ToString();

    private MetadataError Refused(Streams.Server.Metadata.V1.ControllerCommand command, string errorName, params string[] parts)
    {
        var error = _controller.Refused(command);
        Assert.True(errorName == error.Name, $"expected {errorName}, got {error.Name}: {error.Message}");
        foreach (var part in parts)
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }

        return error;
    }

    private DeliveryStreamRecord Delivery(string name = "to-s3") => _controller.Current.DeliveryStreams[name];

    [Fact]
    public void Create_stores_the_destination_with_its_defaults_written_out()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.S3("bucket"), T0));

        var record = Delivery();
        Assert.Equal(("orders", 1L, T0, InitialPosition.TrimHorizon), (record.SourceStreamName, record.VersionId, record.CreatedAt.ToUnixTimeMilliseconds(), record.InitialPosition));
        var destination = record.ParseDestination();
        Assert.Equal(("bucket", "us-east-1", "data/", "errors/"), (destination.S3.Bucket, destination.S3.Region, destination.Prefix, destination.ErrorOutputPrefix));
        Assert.Equal((5, 300), (destination.BufferingHints.SizeInMbs, destination.BufferingHints.IntervalInSeconds));
        Assert.Equal((Compression.None, RecordFormat.Raw, "\n"), (destination.Compression, destination.RecordFormat, destination.RecordDelimiter.ToStringUtf8()));
        Assert.Equal("firehose.to-s3", record.ConsumerGroupName);
    }

    [Fact]
    public void Create_is_refused_for_a_taken_name_a_missing_source_or_a_bad_destination()
    {
        _controller.CreateActive("orders", 1);
        _controller.Ok(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.Local(), T0));
        Refused(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.Local(), T0), StreamsErrors.ResourceInUse, "'to-s3' exists already");
        Refused(DeliveryCommands.Create("other", "missing", DeliveryCommands.Local(), T0), StreamsErrors.ResourceNotFound, "'missing'");
        Refused(DeliveryCommands.Create("other", "orders", DeliveryCommands.S3("UPPER"), T0), StreamsErrors.InvalidArgument, "s3.bucket 'UPPER'");
        Refused(DeliveryCommands.Create("no spaces", "orders", DeliveryCommands.Local(), T0), StreamsErrors.InvalidArgument, "delivery_stream_name");
        Refused(DeliveryCommands.Create("other", "orders", DeliveryCommands.Local("../outside"), T0), StreamsErrors.InvalidArgument, "'..'");
        Assert.Single(_controller.Current.DeliveryStreams);
    }

    [Fact]
    public void Update_needs_the_current_version_and_a_retried_update_is_done_already()
    {
        _controller.CreateActive("orders", 1);
        _controller.Ok(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.Local(), T0));
        _controller.Ok(DeliveryCommands.Update("to-s3", 1, DeliveryCommands.S3("bucket-1"), T0 + 10));
        Assert.Equal((2L, T0 + 10), (Delivery().VersionId, Delivery().UpdatedAt.ToUnixTimeMilliseconds()));

        // The same command again (a proposal retried after a leader change) changes nothing.
        Assert.Equal(ApplyResult.Unchanged, _controller.Apply(DeliveryCommands.Update("to-s3", 1, DeliveryCommands.S3("bucket-1"), T0 + 20)));
        Refused(DeliveryCommands.Update("to-s3", 1, DeliveryCommands.S3("bucket-2"), T0 + 30), StreamsErrors.ConcurrentModification, "at version 2, not 1", "current_version_id 2");
        Assert.Equal("bucket-1", Delivery().ParseDestination().S3.Bucket);
    }

    [Fact]
    public void Progress_adds_counters_and_keeps_the_last_error()
    {
        _controller.CreateActive("orders", 1);
        _controller.Ok(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.Local(), T0));
        _controller.Ok(DeliveryCommands.Progress("to-s3", Id(0), 2, 100, 5_000, T0 + 1, error: "NoSuchBucket: gone", lagMs: 900));
        _controller.Ok(DeliveryCommands.Progress("to-s3", Id(0), 1, 50, 2_500, T0 + 2, lagMs: 10));

        var progress = Delivery().ProgressOf(Id(0));
        Assert.Equal((3L, 150L, 7_500L, 1L, 10L), (progress.ObjectsDelivered, progress.RecordsDelivered, progress.BytesDelivered, progress.UploadFailures, progress.LagMillis));
        Assert.Equal(("NoSuchBucket: gone", T0 + 1, T0 + 2), (progress.LastError, progress.LastErrorAt?.ToUnixTimeMilliseconds(), progress.ReportedAt?.ToUnixTimeMilliseconds()));
        Refused(DeliveryCommands.Progress("gone", Id(0), 1, 1, 1, T0), StreamsErrors.ResourceNotFound, "'gone'");
    }

    [Fact]
    public void Delete_forgets_the_delivery_stream_and_its_group_even_with_live_workers()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(DeliveryCommands.Create("to-s3", "orders", DeliveryCommands.Local(), T0));
        var group = new GroupCommands("orders", "firehose.to-s3");
        _controller.Ok(group.Join("node-1:abc", T0));
        _controller.Ok(new GroupCommands("orders", "app").Join("other", T0));

        _controller.Ok(DeliveryCommands.Delete("to-s3", T0 + 1));
        Assert.Empty(_controller.Current.DeliveryStreams);
        Assert.Equal(["app"], _controller.Stream("orders").ConsumerGroups.Keys);
        Refused(group.Heartbeat("node-1:abc", T0 + 2), StreamsErrors.LeaseLost);
    }

    [Fact]
    public void A_prepared_checkpoint_stays_pending_across_a_lease_move_until_a_checkpoint_makes_it()
    {
        _controller.CreateActive("orders", 1);
        var group = new GroupCommands("orders", "app");
        _controller.Ok(group.Join("a", T0, sessionTimeoutMs: 1_000));
        _controller.Ok(group.Checkpoint("a", Id(0), 1, Seq(5), T0 + 1));
        _controller.Ok(group.Prepare("a", Id(0), 1, Seq(9), T0 + 2));

        var state = _controller.Stream("orders").ConsumerGroups["app"].ShardState(Id(0));
        Assert.Equal((Seq(5), Seq(9)), (state.Checkpoint?.ToString(), state.Pending?.ToString()));

        // a expires; b gets the shard at a new epoch and is told what a prepared.
        _controller.Ok(group.Join("b", T0 + 5_000));
        var stream = _controller.Stream("orders");
        var lease = Assert.Single(ConsumerResponses.LeasesOf(stream, stream.ConsumerGroups["app"], "b"));
        Assert.Equal((2L, Seq(5), Seq(9)), (lease.Epoch, lease.Checkpoint, lease.PendingCheckpoint));

        // a, fenced, can neither prepare nor checkpoint; b makes the checkpoint, which clears it.
        Refused(group.Prepare("a", Id(0), 1, Seq(12), T0 + 5_001), StreamsErrors.LeaseLost);
        _controller.Ok(group.Checkpoint("b", Id(0), 2, Seq(9), T0 + 5_002));
        state = _controller.Stream("orders").ConsumerGroups["app"].ShardState(Id(0));
        Assert.Equal((Seq(9), (string?)null), (state.Checkpoint?.ToString(), state.Pending?.ToString()));

        // The prepare retried after it was made is done already, not pending again.
        Assert.Equal(ApplyResult.Unchanged, _controller.Apply(group.Prepare("b", Id(0), 2, Seq(9), T0 + 5_003)));
        Assert.Null(_controller.Stream("orders").ConsumerGroups["app"].ShardState(Id(0)).Pending);
    }

    [Fact]
    public void A_prepare_needs_a_sequence_number_and_cannot_end_a_shard()
    {
        _controller.CreateActive("orders", 1);
        var group = new GroupCommands("orders", "app");
        _controller.Ok(group.Join("a", T0));
        var prepare = group.Prepare("a", Id(0), 1, "", T0 + 1);
        Refused(prepare, StreamsErrors.InvalidArgument, "prepare is set but sequence_number is empty");
        prepare = group.Prepare("a", Id(0), 1, Seq(3), T0 + 1);
        prepare.Checkpoint.ShardEnd = true;
        Refused(prepare, StreamsErrors.InvalidArgument, "prepare and shard_end");
    }
}
