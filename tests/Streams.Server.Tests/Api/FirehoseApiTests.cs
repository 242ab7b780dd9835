using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>streams.v1.Firehose over the wire on one node, delivering to its local directory.</summary>
public sealed class FirehoseApiTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    private static DeliveryDestination LocalDestination(string path, int intervalSeconds = 1, Compression compression = Compression.None, RecordFormat format = RecordFormat.Raw) => new()
    {
        LocalDirectory = new LocalDirectoryDestination { Path = path },
        BufferingHints = new BufferingHints { IntervalInSeconds = intervalSeconds },
        Compression = compression,
        RecordFormat = format,
    };

    private Task<CreateDeliveryStreamResponse> CreateAsync(string name, string source, DeliveryDestination? destination) =>
        _api.Firehose.CreateDeliveryStreamAsync(new CreateDeliveryStreamRequest { DeliveryStreamName = name, SourceStreamName = source, Destination = destination }, ApiNode.Deadline()).ResponseAsync;

    private async Task<DeliveryStreamDescription> DescribeAsync(string name) =>
        (await _api.Firehose.DescribeDeliveryStreamAsync(new DescribeDeliveryStreamRequest { DeliveryStreamName = name }, ApiNode.Deadline())).DeliveryStreamDescription;

    private static string[] ObjectsUnder(string root) =>
        Directory.Exists(root)
            ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray()
            : [];

    // Waits until the objects under root hold `expected` records (split on newlines).
    private static async Task<string[]> WaitForObjectsAsync(string root, int expected, Func<byte[], IEnumerable<string>> decode)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var keys = ObjectsUnder(root).Where(k => !k.Contains("/.tmp-", StringComparison.Ordinal) && !k.StartsWith(".tmp-", StringComparison.Ordinal)).ToArray();
            var count = keys.Sum(k => decode(File.ReadAllBytes(Path.Combine(root, k))).Count());
            if (count >= expected)
            {
                return keys;
            }

            Assert.True(DateTime.UtcNow < until, $"only {count} of {expected} records were delivered to {root} after 30 s: {string.Join(", ", keys)}");
            await Task.Delay(100);
        }
    }

    private static IEnumerable<string> Lines(byte[] bytes) => Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Records_are_delivered_once_in_order_to_the_local_directory()
    {
        var stream = await _api.NewActiveStreamAsync("firehose-local", 2);
        var name = ApiNode.NewStreamName("to-local");
        var root = Path.Combine(_api.Node.DataDirectory, "out", name);
        await CreateAsync(name, stream, LocalDestination(root));
        var sent = Enumerable.Range(0, 200).Select(i => $"record-{i:D4}").ToList();
        foreach (var chunk in sent.Chunk(50))
        {
            await _api.PutAsync(stream, [.. chunk.Select(text => ApiNode.Entry(text, text))]);
        }

        var keys = await WaitForObjectsAsync(root, sent.Count, Lines);
        var stored = await _api.ReadStreamAsync(stream);
        var delivered = new List<string>();
        foreach (var key in keys)
        {
            // prefix-less: yyyy/MM/dd/HH/<delivery>-<shard>-<first>-<last>
            var parts = key.Split('/');
            Assert.Equal(5, parts.Length);
            var file = parts[4];
            Assert.StartsWith(name + "-shardId-", file, StringComparison.Ordinal);
            var shardId = file.Substring(name.Length + 1, "shardId-000000000000".Length);
            var sequences = file[(name.Length + 1 + shardId.Length + 1)..].Split('-');
            var records = stored[shardId];
            var first = records.FindIndex(r => r.SequenceNumber == sequences[0]);
            var last = records.FindIndex(r => r.SequenceNumber == sequences[1]);
            Assert.True(first >= 0 && last >= first, $"object {key} names records not in {shardId}");
            Assert.Equal(ApiNode.Texts(records.Skip(first).Take(last - first + 1)), Lines(File.ReadAllBytes(Path.Combine(root, key))));
            Assert.Equal(records[first].ApproximateArrivalTimestamp.ToDateTime().ToString("yyyy/MM/dd/HH", System.Globalization.CultureInfo.InvariantCulture), string.Join('/', parts[..4]));
            delivered.AddRange(Lines(File.ReadAllBytes(Path.Combine(root, key))));
        }

        Assert.Equal(sent.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));

        // The workers report within their report interval (5 s).
        var until = DateTime.UtcNow.AddSeconds(20);
        DeliveryStreamDescription description;
        while ((description = await DescribeAsync(name)).RecordsDelivered < sent.Count)
        {
            Assert.True(DateTime.UtcNow < until, $"Describe reports {description.RecordsDelivered} records delivered, not {sent.Count}: {description}");
            await Task.Delay(200);
        }

        Assert.Equal(keys.Length, description.ObjectsDelivered);
        Assert.Equal(keys.Sum(k => new FileInfo(Path.Combine(root, k)).Length), description.BytesDelivered);
        Assert.Equal(2, description.Shards.Count);
        Assert.All(description.Shards, s => Assert.Equal("node-1", s.Worker));
        Assert.All(description.Shards, s => Assert.Equal(stored[s.ShardId][^1].SequenceNumber, s.DeliveredSequenceNumber));
        Assert.All(description.Shards, s => Assert.Empty(s.PendingSequenceNumber));
        Assert.Equal("firehose." + name, description.ConsumerGroupName);
    }

    [Fact]
    public async Task Gzip_json_lines_carry_keys_sequence_numbers_and_data()
    {
        var stream = await _api.NewActiveStreamAsync("firehose-json", 1);
        var name = ApiNode.NewStreamName("to-json");
        var root = Path.Combine(_api.Node.DataDirectory, "out", name);
        await CreateAsync(name, stream, LocalDestination(root, compression: Compression.Gzip, format: RecordFormat.JsonLines));
        var payloads = Enumerable.Range(0, 20).Select(i => new byte[] { (byte)i, 10, 0, 255 }).ToList();
        await _api.PutAsync(stream, [.. payloads.Select((p, i) => new PutRecordsRequestEntry { PartitionKey = $"key-{i}", Data = ByteString.CopyFrom(p) })]);

        static IEnumerable<string> Gunzip(byte[] bytes)
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return Lines(output.ToArray());
        }

        var keys = await WaitForObjectsAsync(root, payloads.Count, Gunzip);
        Assert.All(keys, k => Assert.EndsWith(".gz", k, StringComparison.Ordinal));
        var lines = keys.SelectMany(k => Gunzip(File.ReadAllBytes(Path.Combine(root, k)))).ToList();
        var stored = (await _api.ReadStreamAsync(stream)).Values.Single();
        Assert.Equal(stored.Count, lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var line = json.RootElement;
            Assert.Equal(stored[i].SequenceNumber, line.GetProperty("sequence_number").GetString());
            Assert.Equal(stored[i].PartitionKey, line.GetProperty("partition_key").GetString());
            Assert.Equal(stored[i].Data.ToByteArray(), line.GetProperty("data").GetBytesFromBase64());
            Assert.Equal(stored[i].ApproximateArrivalTimestamp.ToDateTimeOffset().ToUnixTimeMilliseconds(), line.GetProperty("approximate_arrival_timestamp").GetDateTimeOffset().ToUnixTimeMilliseconds());
        }
    }

    [Fact]
    public async Task Records_holding_the_delimiter_go_to_the_error_output_with_the_reason()
    {
        var stream = await _api.NewActiveStreamAsync("firehose-errors", 1);
        var name = ApiNode.NewStreamName("to-errors");
        var root = Path.Combine(_api.Node.DataDirectory, "out", name);
        await CreateAsync(name, stream, LocalDestination(root));
        await _api.PutAsync(stream, ApiNode.Entry("a", "fine-1"), ApiNode.Entry("a", "two\nlines"), ApiNode.Entry("a", "fine-2"));

        var keys = await WaitForObjectsAsync(root, 3, Lines);
        var error = Assert.Single(keys, k => k.StartsWith("errors/framing-failed/", StringComparison.Ordinal));
        var delivered = Assert.Single(keys, k => !k.StartsWith("errors/", StringComparison.Ordinal));
        Assert.Equal(["fine-1", "fine-2"], Lines(File.ReadAllBytes(Path.Combine(root, delivered))));
        using var json = JsonDocument.Parse(Assert.Single(Lines(File.ReadAllBytes(Path.Combine(root, error)))));
        Assert.Equal("two\nlines", Encoding.UTF8.GetString(json.RootElement.GetProperty("data").GetBytesFromBase64()));
        Assert.Equal("framing-failed", json.RootElement.GetProperty("error_code").GetString());
        Assert.Contains("delimiter", json.RootElement.GetProperty("error_message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_list_update_and_delete()
    {
        var stream = await _api.NewActiveStreamAsync("firehose-admin", 1);
        var name = ApiNode.NewStreamName("admin");
        await CreateAsync(name, stream, null);
        var described = await DescribeAsync(name);
        Assert.Equal(DeliveryDestination.TargetOneofCase.LocalDirectory, described.Destination.TargetCase);
        Assert.Equal("firehose/" + name, described.Destination.LocalDirectory.Path);
        Assert.Equal((5, 300), (described.Destination.BufferingHints.SizeInMbs, described.Destination.BufferingHints.IntervalInSeconds));
        Assert.Equal((Compression.None, RecordFormat.Raw, "\n", "errors/"), (described.Destination.Compression, described.Destination.RecordFormat, described.Destination.RecordDelimiter.ToStringUtf8(), described.Destination.ErrorOutputPrefix));
        Assert.Equal(InitialPosition.TrimHorizon, described.InitialPosition);
        Assert.Equal(1, described.VersionId);

        await ApiNode.AssertFailsAsync(() => CreateAsync(name, stream, null), StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, name, "exists");
        var list = await _api.Firehose.ListDeliveryStreamsAsync(new ListDeliveryStreamsRequest(), ApiNode.Deadline());
        Assert.Contains(name, list.DeliveryStreamNames);

        var s3 = new DeliveryDestination { S3 = new S3Destination { Endpoint = "http://127.0.0.1:1", Bucket = "my-bucket", AccessKeyId = "AK", SecretAccessKey = "very-secret" }, Prefix = "orders/" };
        var updated = await _api.Firehose.UpdateDestinationAsync(new UpdateDestinationRequest { DeliveryStreamName = name, CurrentVersionId = 1, Destination = s3 }, ApiNode.Deadline());
        Assert.Equal(2, updated.VersionId);
        described = await DescribeAsync(name);
        Assert.Equal(("my-bucket", "us-east-1", "AK", ""), (described.Destination.S3.Bucket, described.Destination.S3.Region, described.Destination.S3.AccessKeyId, described.Destination.S3.SecretAccessKey));
        // The same update again is done already (a retry); another one from version 1 was made without seeing it.
        Assert.Equal(2, (await _api.Firehose.UpdateDestinationAsync(new UpdateDestinationRequest { DeliveryStreamName = name, CurrentVersionId = 1, Destination = s3 }, ApiNode.Deadline())).VersionId);
        var other = new DeliveryDestination { LocalDirectory = new LocalDirectoryDestination { Path = "elsewhere" } };
        await ApiNode.AssertFailsAsync(
            () => _api.Firehose.UpdateDestinationAsync(new UpdateDestinationRequest { DeliveryStreamName = name, CurrentVersionId = 1, Destination = other }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.FailedPrecondition,
            StreamsErrors.ConcurrentModification,
            "version 2");

        await _api.Firehose.DeleteDeliveryStreamAsync(new DeleteDeliveryStreamRequest { DeliveryStreamName = name }, ApiNode.Deadline());
        await ApiNode.AssertFailsAsync(() => DescribeAsync(name), StatusCode.NotFound, StreamsErrors.ResourceNotFound, name);
    }

    [Theory]
    [InlineData("bad name!", "delivery_stream_name")]
    [InlineData("ok", "buffering_hints.size_in_mbs")]
    [InlineData("ok", "buffering_hints.interval_in_seconds")]
    [InlineData("ok", "s3.bucket")]
    [InlineData("ok", "s3.endpoint")]
    [InlineData("ok", "s3.access_key_id and s3.secret_access_key")]
    [InlineData("ok", "record_delimiter")]
    [InlineData("ok", "error_output_prefix")]
    public async Task Bad_requests_say_what_to_change(string name, string field)
    {
        var stream = await _api.NewActiveStreamAsync("firehose-bad", 1);
        var destination = new DeliveryDestination();
        switch (field)
        {
            case "buffering_hints.size_in_mbs":
                destination.BufferingHints = new BufferingHints { SizeInMbs = 129 };
                break;
            case "buffering_hints.interval_in_seconds":
                destination.BufferingHints = new BufferingHints { IntervalInSeconds = 901 };
                break;
            case "s3.bucket":
                destination.S3 = new S3Destination { Bucket = "Not_A_Bucket" };
                break;
            case "s3.endpoint":
                destination.S3 = new S3Destination { Bucket = "bucket", Endpoint = "ftp://host" };
                break;
            case "s3.access_key_id and s3.secret_access_key":
                destination.S3 = new S3Destination { Bucket = "bucket", AccessKeyId = "only-the-id" };
                break;
            case "record_delimiter":
                destination.RecordDelimiter = ByteString.CopyFrom(new byte[17]);
                break;
            case "error_output_prefix":
                destination.Prefix = "same/";
                destination.ErrorOutputPrefix = "same";
                break;
        }

        await ApiNode.AssertInvalidAsync(() => CreateAsync(name, stream, destination), field);
    }

    [Fact]
    public async Task A_missing_source_stream_is_not_found()
    {
        await ApiNode.AssertFailsAsync(() => CreateAsync(ApiNode.NewStreamName("orphan"), "no-such-stream", null), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "no-such-stream");
    }
}
