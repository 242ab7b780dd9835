using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class FirehoseCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Create_sends_the_s3_destination_and_every_setting()
    {
        _server.Firehose.On<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>(_ => new CreateDeliveryStreamResponse());

        var result = await _server.RunAsync(
            "firehose", "create", "orders-to-s3", "--source", "orders",
            "--s3-bucket", "archive", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-region", "eu-west-1",
            "--s3-access-key-id", "AKID", "--s3-secret-access-key", "s3cr3t",
            "--prefix", "orders/", "--error-prefix", "failed/", "--buffer-size-mb", "16", "--buffer-interval", "60",
            "--gzip", "--format", "raw", "--delimiter", @"\t|\x1E", "--initial-position", "latest");

        Assert.Equal(0, result.ExitCode);
        var expected = new CreateDeliveryStreamRequest
        {
            DeliveryStreamName = "orders-to-s3",
            SourceStreamName = "orders",
            InitialPosition = InitialPosition.Latest,
            Destination = new DeliveryDestination
            {
                S3 = new S3Destination
                {
                    Bucket = "archive",
                    Endpoint = "http://127.0.0.1:9000",
                    Region = "eu-west-1",
                    AccessKeyId = "AKID",
                    SecretAccessKey = "s3cr3t",
                },
                Prefix = "orders/",
                ErrorOutputPrefix = "failed/",
                BufferingHints = new BufferingHints { SizeInMbs = 16, IntervalInSeconds = 60 },
                Compression = Compression.Gzip,
                RecordFormat = RecordFormat.Raw,
                RecordDelimiter = ByteString.CopyFrom((byte)'\t', (byte)'|', 0x1E),
            },
        };
        Assert.Equal(expected, Assert.Single(_server.Firehose.Requests<CreateDeliveryStreamRequest>()));
        Assert.Equal("created delivery stream orders-to-s3 from orders to s3://archive at http://127.0.0.1:9000", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Create_without_a_destination_leaves_every_default_to_the_server()
    {
        _server.Firehose.On<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>(_ => new CreateDeliveryStreamResponse());

        var result = await _server.RunAsync("firehose", "create", "local", "--source", "orders");

        Assert.Equal(0, result.ExitCode);
        var expected = new CreateDeliveryStreamRequest { DeliveryStreamName = "local", SourceStreamName = "orders", Destination = new DeliveryDestination() };
        Assert.Equal(expected, Assert.Single(_server.Firehose.Requests<CreateDeliveryStreamRequest>()));
        Assert.Equal("created delivery stream local from orders to the default directory (firehose/NAME under each node's data directory)", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Create_to_a_directory_as_json_lines()
    {
        _server.Firehose.On<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>(_ => new CreateDeliveryStreamResponse());

        var result = await _server.RunAsync("firehose", "create", "local", "--source", "orders", "--directory", "/var/archive", "--format", "json-lines", "--delimiter", "");

        // --delimiter "" with json-lines is refused; without it the request goes out.
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--delimiter applies to --format raw only", result.Err, StringComparison.Ordinal);

        result = await _server.RunAsync("firehose", "create", "local", "--source", "orders", "--directory", "/var/archive", "--format", "json-lines");

        Assert.Equal(0, result.ExitCode);
        var request = Assert.Single(_server.Firehose.Requests<CreateDeliveryStreamRequest>());
        Assert.Equal(new DeliveryDestination { LocalDirectory = new LocalDirectoryDestination { Path = "/var/archive" }, RecordFormat = RecordFormat.JsonLines }, request.Destination);
        Assert.Equal("created delivery stream local from orders to directory /var/archive", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Create_with_an_empty_delimiter_sends_an_empty_one()
    {
        _server.Firehose.On<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>(_ => new CreateDeliveryStreamResponse());

        var result = await _server.RunAsync("firehose", "create", "local", "--source", "orders", "--delimiter", "");

        Assert.Equal(0, result.ExitCode);
        var destination = Assert.Single(_server.Firehose.Requests<CreateDeliveryStreamRequest>()).Destination;
        Assert.True(destination.HasRecordDelimiter);
        Assert.True(destination.RecordDelimiter.IsEmpty);
    }

    [Fact]
    public async Task Create_refuses_s3_options_with_a_directory_and_names_them()
    {
        var result = await _server.RunAsync("firehose", "create", "x", "--source", "orders", "--directory", "out", "--s3-bucket", "archive", "--s3-region", "eu-west-1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.StartsWith("error: --directory cannot be used with --s3-bucket and --s3-region: a delivery stream writes to S3 or to a local directory, not both.", result.Err, StringComparison.Ordinal);
        Assert.Contains("Run 'streams firehose create --help' for usage.", result.Err, StringComparison.Ordinal);
        Assert.Empty(_server.Firehose.Requests<CreateDeliveryStreamRequest>());
    }

    [Theory]
    [InlineData("--s3-endpoint and --s3-region need --s3-bucket", "--s3-endpoint", "http://minio:9000", "--s3-region", "eu-west-1")]
    [InlineData("--s3-access-key-id needs --s3-secret-access-key", "--s3-bucket", "archive", "--s3-access-key-id", "AKID")]
    [InlineData("--s3-secret-access-key needs --s3-access-key-id", "--s3-bucket", "archive", "--s3-secret-access-key", "s3cr3t")]
    [InlineData("--s3-access-key-id and --s3-profile cannot be used together", "--s3-bucket", "archive", "--s3-access-key-id", "AKID", "--s3-secret-access-key", "s", "--s3-profile", "p")]
    [InlineData("--buffer-size-mb must be a whole number from 1 to 128; got '200'", "--buffer-size-mb", "200")]
    [InlineData("--buffer-interval must be a whole number from 1 to 900; got '0'", "--buffer-interval", "0")]
    [InlineData("'csv' is not a record format: use raw or json-lines", "--format", "csv")]
    [InlineData(@"'\q' is not an escape", "--delimiter", @"\q")]
    [InlineData("is 17 bytes; at most 16 are allowed", "--delimiter", "12345678901234567")]
    [InlineData("'oldest' is not an initial position: use trim-horizon or latest", "--initial-position", "oldest")]
    public async Task Create_refuses_bad_usage_before_calling(string message, params string[] options)
    {
        var result = await _server.RunAsync(["firehose", "create", "x", "--source", "orders", .. options]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.StartsWith("error: ", result.Err, StringComparison.Ordinal);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Empty(_server.Firehose.Requests<CreateDeliveryStreamRequest>());
    }

    [Fact]
    public async Task Create_needs_a_source()
    {
        var result = await _server.RunAsync("firehose", "create", "x");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--source", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_prints_the_destination_the_totals_and_each_shard()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = S3Description() });

        var result = await _server.RunAsync("firehose", "describe", "orders-to-s3");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new DescribeDeliveryStreamRequest { DeliveryStreamName = "orders-to-s3" }, Assert.Single(_server.Firehose.Requests<DescribeDeliveryStreamRequest>()));
        Assert.Contains("source          orders", result.Lines);
        Assert.Contains("status          ACTIVE", result.Lines);
        Assert.Contains("version         3", result.Lines);
        Assert.Contains("starts at       trim-horizon", result.Lines);
        Assert.Contains("consumer group  firehose.orders-to-s3", result.Lines);
        Assert.Contains("destination     s3://archive at http://127.0.0.1:9000", result.Lines);
        Assert.Contains("region          us-east-1", result.Lines);
        Assert.Contains("credentials     access key AKID", result.Lines);
        Assert.Contains("prefix          orders/", result.Lines);
        Assert.Contains("error prefix    errors/", result.Lines);
        Assert.Contains("buffering       5 MiB or 300 s, whichever comes first", result.Lines);
        Assert.Contains("compression     gzip", result.Lines);
        Assert.Contains(@"format          raw, delimiter \n", result.Lines);
        Assert.Contains("objects          12", result.Lines);
        Assert.Contains("records          3400", result.Lines);
        Assert.Contains("bytes            1048576", result.Lines);
        Assert.Contains("failed records   2", result.Lines);
        Assert.Contains("upload failures  1", result.Lines);
        Assert.Contains("lag              1500 ms, 42 records", result.Lines);
        Assert.Contains("SHARD                 WORKER  DELIVERED                   PENDING                     LAG MS  LAG RECORDS  OBJECTS  RECORDS  BYTES    LAST ERROR", result.Lines);
        Assert.Contains("shardId-000000000000  -       SHARD_END                   -                           0       0            2        400      48576    -", result.Lines);
        Assert.Contains(
            "shardId-000000000001  node-2  00000000000000000007000002  00000000000000000009000001  1500    42           10       3000     1000000  2026-11-21 12:00:00Z PUT archive/x: 503 Slow Down",
            result.Lines);
    }

    [Fact]
    public async Task Describe_says_when_the_source_does_not_exist()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse
        {
            DeliveryStreamDescription = new DeliveryStreamDescription
            {
                DeliveryStreamName = "local",
                SourceStreamName = "gone",
                Destination = new DeliveryDestination
                {
                    LocalDirectory = new LocalDirectoryDestination { Path = "firehose/local" },
                    RecordFormat = RecordFormat.JsonLines,
                    BufferingHints = new BufferingHints { SizeInMbs = 1, IntervalInSeconds = 60 },
                },
            },
        });

        var result = await _server.RunAsync("firehose", "describe", "local");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("destination     directory firehose/local", result.Lines);
        Assert.Contains("format          json-lines", result.Lines);
        Assert.Contains("compression     none", result.Lines);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("credentials", StringComparison.Ordinal));
        Assert.Equal("no shards: the source stream gone does not exist; workers wait for it.", result.Lines[^1]);
    }

    [Fact]
    public async Task Describe_as_json_is_the_response()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = S3Description() });

        var result = await _server.RunAsync("firehose", "describe", "orders-to-s3", "--output", "json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var description = json.RootElement.GetProperty("delivery_stream_description");
        Assert.Equal("DELIVERY_STREAM_STATUS_ACTIVE", description.GetProperty("status").GetString());
        Assert.Equal("archive", description.GetProperty("destination").GetProperty("s3").GetProperty("bucket").GetString());
        Assert.Equal("shardId-000000000001", description.GetProperty("shards")[1].GetProperty("shard_id").GetString());
    }

    [Fact]
    public async Task List_follows_every_page()
    {
        _server.Firehose.On<ListDeliveryStreamsRequest, ListDeliveryStreamsResponse>(request => request.ExclusiveStartDeliveryStreamName switch
        {
            "" => new ListDeliveryStreamsResponse { DeliveryStreamNames = { "a", "b" }, HasMoreDeliveryStreams = true },
            "b" => new ListDeliveryStreamsResponse { DeliveryStreamNames = { "c", "d" }, HasMoreDeliveryStreams = true },
            _ => new ListDeliveryStreamsResponse { DeliveryStreamNames = { "e" } },
        });

        var result = await _server.RunAsync("firehose", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["a", "b", "c", "d", "e"], result.Lines);
        Assert.Equal(["", "b", "d"], _server.Firehose.Requests<ListDeliveryStreamsRequest>().Select(r => r.ExclusiveStartDeliveryStreamName));
        Assert.All(_server.Firehose.Requests<ListDeliveryStreamsRequest>(), r => Assert.Equal(0, r.Limit));
    }

    [Fact]
    public async Task List_stops_at_the_limit_and_json_says_there_is_more()
    {
        _server.Firehose.On<ListDeliveryStreamsRequest, ListDeliveryStreamsResponse>(request => request.ExclusiveStartDeliveryStreamName switch
        {
            "" => new ListDeliveryStreamsResponse { DeliveryStreamNames = { "a", "b" }, HasMoreDeliveryStreams = true },
            _ => new ListDeliveryStreamsResponse { DeliveryStreamNames = { "c" }, HasMoreDeliveryStreams = true },
        });

        var result = await _server.RunAsync("firehose", "list", "--limit", "3", "--output", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([3, 1], _server.Firehose.Requests<ListDeliveryStreamsRequest>().Select(r => r.Limit));
        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(["a", "b", "c"], json.RootElement.GetProperty("delivery_stream_names").EnumerateArray().Select(e => e.GetString()));
        Assert.True(json.RootElement.GetProperty("has_more_delivery_streams").GetBoolean());
    }

    [Fact]
    public async Task Update_changes_only_the_options_given_and_sends_the_version()
    {
        var current = LocalDescription();
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = current });
        _server.Firehose.On<UpdateDestinationRequest, UpdateDestinationResponse>(r => new UpdateDestinationResponse { VersionId = r.CurrentVersionId + 1 });

        var result = await _server.RunAsync("firehose", "update", "local", "--buffer-interval", "60");

        Assert.Equal(0, result.ExitCode);
        var wanted = current.Destination.Clone();
        wanted.BufferingHints.IntervalInSeconds = 60;
        Assert.Equal(
            new UpdateDestinationRequest { DeliveryStreamName = "local", CurrentVersionId = 7, Destination = wanted },
            Assert.Single(_server.Firehose.Requests<UpdateDestinationRequest>()));
        Assert.Equal("updated the destination of local to directory firehose/local (version 8)", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Update_switches_a_directory_to_s3_keeping_the_other_settings()
    {
        var current = LocalDescription();
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = current });
        _server.Firehose.On<UpdateDestinationRequest, UpdateDestinationResponse>(_ => new UpdateDestinationResponse { VersionId = 8 });

        var result = await _server.RunAsync("firehose", "update", "local", "--s3-bucket", "archive", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-profile", "minio", "--format", "json-lines", "--gzip");

        Assert.Equal(0, result.ExitCode);
        var wanted = current.Destination.Clone();
        wanted.S3 = new S3Destination { Bucket = "archive", Endpoint = "http://127.0.0.1:9000", Profile = "minio" };
        wanted.RecordFormat = RecordFormat.JsonLines;
        wanted.ClearRecordDelimiter();
        wanted.Compression = Compression.Gzip;
        Assert.Equal(wanted, Assert.Single(_server.Firehose.Requests<UpdateDestinationRequest>()).Destination);
    }

    [Fact]
    public async Task Update_of_a_destination_signing_with_a_key_asks_for_the_secret_again()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = S3Description() });
        _server.Firehose.On<UpdateDestinationRequest, UpdateDestinationResponse>(_ => new UpdateDestinationResponse { VersionId = 4 });

        var result = await _server.RunAsync("firehose", "update", "orders-to-s3", "--buffer-interval", "60");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal(
            "error: orders-to-s3 signs with access key AKID, whose secret the cluster never shows back; give --s3-secret-access-key again (or --s3-profile to sign with a profile instead).",
            result.Err.Trim());
        Assert.Empty(_server.Firehose.Requests<UpdateDestinationRequest>());

        result = await _server.RunAsync("firehose", "update", "orders-to-s3", "--buffer-interval", "60", "--s3-secret-access-key", "s3cr3t");

        Assert.Equal(0, result.ExitCode);
        var wanted = S3Description().Destination;
        wanted.S3.SecretAccessKey = "s3cr3t";
        wanted.BufferingHints.IntervalInSeconds = 60;
        Assert.Equal(
            new UpdateDestinationRequest { DeliveryStreamName = "orders-to-s3", CurrentVersionId = 3, Destination = wanted },
            Assert.Single(_server.Firehose.Requests<UpdateDestinationRequest>()));
        Assert.Equal("updated the destination of orders-to-s3 to s3://archive at http://127.0.0.1:9000 (version 4)", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task Update_to_a_profile_or_a_directory_needs_no_secret()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = S3Description() });
        _server.Firehose.On<UpdateDestinationRequest, UpdateDestinationResponse>(_ => new UpdateDestinationResponse { VersionId = 4 });

        Assert.Equal(0, (await _server.RunAsync("firehose", "update", "orders-to-s3", "--s3-profile", "archive-writer")).ExitCode);
        Assert.Equal(0, (await _server.RunAsync("firehose", "update", "orders-to-s3", "--directory", "out", "--gzip", "false")).ExitCode);

        var requests = _server.Firehose.Requests<UpdateDestinationRequest>();
        Assert.Equal(new S3Destination { Bucket = "archive", Endpoint = "http://127.0.0.1:9000", Region = "us-east-1", Profile = "archive-writer" }, requests[0].Destination.S3);
        Assert.Equal(new LocalDirectoryDestination { Path = "out" }, requests[1].Destination.LocalDirectory);
        Assert.Equal(Compression.None, requests[1].Destination.Compression);
        Assert.Equal("orders/", requests[1].Destination.Prefix);
    }

    [Theory]
    [InlineData("--s3-region needs --s3-bucket: local writes to directory firehose/local; give --s3-bucket to switch it to S3.", "--s3-region", "eu-west-1")]
    [InlineData("--s3-secret-access-key needs an access key, and local's destination has none; give --s3-access-key-id too.", "--s3-secret-access-key", "s3cr3t")]
    [InlineData("--delimiter applies to raw output only, and local writes json-lines; add --format raw.", "--delimiter", "|")]
    public async Task Update_refuses_what_does_not_fit_the_current_destination(string message, params string[] options)
    {
        var current = LocalDescription();
        current.Destination.RecordFormat = RecordFormat.JsonLines;
        current.Destination.ClearRecordDelimiter();
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = current });

        var result = await _server.RunAsync(["firehose", "update", "local", .. options]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {message}", result.Err.Trim());
        Assert.Empty(_server.Firehose.Requests<UpdateDestinationRequest>());
    }

    [Theory]
    [InlineData("nothing to change")]
    [InlineData("--directory cannot be used with --s3-endpoint", "--directory", "out", "--s3-endpoint", "http://minio:9000")]
    [InlineData("--s3-access-key-id needs --s3-secret-access-key", "--s3-access-key-id", "AKID")]
    public async Task Update_refuses_bad_usage_before_calling(string message, params string[] options)
    {
        var result = await _server.RunAsync(["firehose", "update", "local", .. options]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Empty(_server.Firehose.Requests<DescribeDeliveryStreamRequest>());
    }

    [Fact]
    public async Task Update_reports_a_concurrent_change()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(_ => new DescribeDeliveryStreamResponse { DeliveryStreamDescription = LocalDescription() });
        _server.Firehose.On<UpdateDestinationRequest, UpdateDestinationResponse>(_ =>
            throw FakeStreamsService.Error(StatusCode.FailedPrecondition, "ConcurrentModificationException", "version_id is 8, not 7; describe it again."));

        var result = await _server.RunAsync("firehose", "update", "local", "--prefix", "new/");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: ConcurrentModificationException: version_id is 8, not 7; describe it again.", result.Err.Trim());
    }

    [Fact]
    public async Task Delete_names_the_delivery_stream()
    {
        _server.Firehose.On<DeleteDeliveryStreamRequest, DeleteDeliveryStreamResponse>(_ => new DeleteDeliveryStreamResponse());

        var result = await _server.RunAsync("firehose", "delete", "orders-to-s3");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new DeleteDeliveryStreamRequest { DeliveryStreamName = "orders-to-s3" }, Assert.Single(_server.Firehose.Requests<DeleteDeliveryStreamRequest>()));
        Assert.Equal("deleted delivery stream orders-to-s3", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task A_missing_delivery_stream_is_an_error()
    {
        _server.Firehose.On<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(r =>
            throw FakeStreamsService.Error(StatusCode.NotFound, StreamsErrors.ResourceNotFound, $"Delivery stream '{r.DeliveryStreamName}' was not found."));

        var result = await _server.RunAsync("firehose", "describe", "missing");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal("error: ResourceNotFoundException: Delivery stream 'missing' was not found.", result.Err.Trim());
    }

    [Fact]
    public async Task Help_lists_the_firehose_commands()
    {
        var result = await CliRunner.RunAsync(["firehose", "--help"]);

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "create", "list", "describe", "update", "delete" })
        {
            Assert.Contains($"  {command}", result.Out, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(@"\n", new byte[] { 10 })]
    [InlineData(@"a\\b", new byte[] { 97, 92, 98 })]
    [InlineData(@"\r\n\0", new byte[] { 13, 10, 0 })]
    [InlineData(@"|\xfF|", new byte[] { 124, 255, 124 })]
    [InlineData("§", new byte[] { 0xC2, 0xA7 })]
    public void Delimiter_escapes_round_trip(string text, byte[] bytes)
    {
        var parsed = FirehoseCommands.Unescape(text, out var problem);

        Assert.Null(problem);
        Assert.Equal(bytes, parsed!.ToByteArray());
        Assert.Equal(parsed, FirehoseCommands.Unescape(FirehoseCommands.Escape(parsed), out _));
    }

    [Theory]
    [InlineData(@"\")]
    [InlineData(@"\x4")]
    [InlineData(@"\xZZ")]
    public void Bad_delimiter_escapes_are_refused(string text)
    {
        Assert.Null(FirehoseCommands.Unescape(text, out var problem));
        Assert.Contains("is not an escape", problem, StringComparison.Ordinal);
    }

    private static DeliveryStreamDescription S3Description() => new()
    {
        DeliveryStreamName = "orders-to-s3",
        SourceStreamName = "orders",
        Status = DeliveryStreamStatus.Active,
        VersionId = 3,
        InitialPosition = InitialPosition.TrimHorizon,
        ConsumerGroupName = "firehose.orders-to-s3",
        Destination = new DeliveryDestination
        {
            S3 = new S3Destination { Bucket = "archive", Endpoint = "http://127.0.0.1:9000", Region = "us-east-1", AccessKeyId = "AKID" },
            Prefix = "orders/",
            ErrorOutputPrefix = "errors/",
            BufferingHints = new BufferingHints { SizeInMbs = 5, IntervalInSeconds = 300 },
            Compression = Compression.Gzip,
            RecordFormat = RecordFormat.Raw,
            RecordDelimiter = ByteString.CopyFromUtf8("\n"),
        },
        ObjectsDelivered = 12,
        RecordsDelivered = 3400,
        BytesDelivered = 1_048_576,
        RecordsFailed = 2,
        UploadFailures = 1,
        LagMillis = 1500,
        LagRecords = 42,
        Shards =
        {
            new DeliveryShardStatus { ShardId = "shardId-000000000000", ShardEnd = true, ObjectsDelivered = 2, RecordsDelivered = 400, BytesDelivered = 48_576 },
            new DeliveryShardStatus
            {
                ShardId = "shardId-000000000001",
                Worker = "node-2",
                DeliveredSequenceNumber = "00000000000000000007000002",
                PendingSequenceNumber = "00000000000000000009000001",
                LagMillis = 1500,
                LagRecords = 42,
                ObjectsDelivered = 10,
                RecordsDelivered = 3000,
                BytesDelivered = 1_000_000,
                RecordsFailed = 2,
                UploadFailures = 1,
                LastError = "PUT archive/x: 503 Slow Down",
                LastErrorAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero)),
            },
        },
    };

    private static DeliveryStreamDescription LocalDescription() => new()
    {
        DeliveryStreamName = "local",
        SourceStreamName = "orders",
        Status = DeliveryStreamStatus.Active,
        VersionId = 7,
        Destination = new DeliveryDestination
        {
            LocalDirectory = new LocalDirectoryDestination { Path = "firehose/local" },
            Prefix = "orders/",
            ErrorOutputPrefix = "errors/",
            BufferingHints = new BufferingHints { SizeInMbs = 5, IntervalInSeconds = 300 },
            Compression = Compression.None,
            RecordFormat = RecordFormat.Raw,
            RecordDelimiter = ByteString.CopyFromUtf8("\n"),
        },
    };
}
