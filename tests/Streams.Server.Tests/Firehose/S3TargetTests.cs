using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Streams.Server.Firehose.Output;
using Streams.Server.Firehose.Targets;
using Streams.Server.Tests.Shards.Log;

namespace Streams.Server.Tests.Firehose;

/// <summary>One s3rver for the tests of a class, with the bucket <see cref="Bucket"/>.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "firehose-tests";

    private readonly TempDirectory _directory = new();

    public S3rverProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3rverProcess.StartAsync(_directory.Path, [Bucket]);

    public Task DisposeAsync()
    {
        Server?.Dispose();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    public S3TargetSettings Settings(string bucket = Bucket) => For(Server, bucket);

    public static S3TargetSettings For(S3rverProcess server, string bucket) => new()
    {
        Endpoint = server.Endpoint,
        Bucket = bucket,
        AccessKeyId = S3rverProcess.AccessKeyId,
        SecretAccessKey = S3rverProcess.SecretAccessKey,
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>The object's bytes and ETag, read with a plain SDK client.</summary>
    public async Task<(byte[] Bytes, string ETag)> GetAsync(string key)
    {
        using var client = new AmazonS3Client(
            new BasicAWSCredentials(S3rverProcess.AccessKeyId, S3rverProcess.SecretAccessKey),
            new AmazonS3Config
            {
                ServiceURL = Server.Endpoint.ToString(),
                ForcePathStyle = true,
                AuthenticationRegion = "us-east-1",
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            });
        using var response = await client.GetObjectAsync(Bucket, key);
        using var body = new MemoryStream();
        await response.ResponseStream.CopyToAsync(body);
        return (body.ToArray(), response.ETag);
    }
}

public sealed class S3TargetTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    private static readonly DateTimeOffset _arrival = new(2026, 11, 21, 18, 53, 26, 123, TimeSpan.Zero);

    [Fact]
    public async Task Puts_a_small_object_and_a_second_put_of_the_key_replaces_it()
    {
        using var target = new S3Target(s3.Settings());
        Assert.Equal($"s3://{S3rverFixture.Bucket} ({s3.Server.Endpoint.ToString().TrimEnd('/')})", target.Description);
        var key = $"small/{Guid.NewGuid():N}/o";
        await target.PutObjectAsync(key, new ReadOnlySequence<byte>("a first version, longer"u8.ToArray()), CancellationToken.None);
        Assert.Equal("a first version, longer"u8.ToArray(), (await s3.GetAsync(key)).Bytes);
        await target.PutObjectAsync(key, new ReadOnlySequence<byte>("second"u8.ToArray()), CancellationToken.None);
        Assert.Equal("second"u8.ToArray(), (await s3.GetAsync(key)).Bytes);
        await target.PutObjectAsync(key, ReadOnlySequence<byte>.Empty, CancellationToken.None);
        Assert.Empty((await s3.GetAsync(key)).Bytes);
    }

    [Fact]
    public async Task An_object_above_the_threshold_goes_up_in_parts_and_reads_back_whole()
    {
        var log = new ShardLogTestLogger();
        var settings = s3.Settings();
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = settings.Endpoint,
            Bucket = settings.Bucket,
            AccessKeyId = settings.AccessKeyId,
            SecretAccessKey = settings.SecretAccessKey,
            MultipartThresholdBytes = S3TargetSettings.MinPartSizeBytes,
            PartSizeBytes = S3TargetSettings.MinPartSizeBytes,
        }, log);
        using var builder = RandomObject(12 * 1024 * 1024, seed: 12);
        var content = builder.Finish().Bytes;
        var key = $"multipart/{Guid.NewGuid():N}/o";
        await target.PutObjectAsync(key, content, CancellationToken.None);
        AssertSameBytes(content.ToArray(), (await s3.GetAsync(key)).Bytes, key);

        // (s3rver gives a multipart object the MD5 of its content as ETag, not AWS's "<md5 of md5s>-<parts>".)
        Assert.Equal([$"Uploaded '{key}' to {target.Description} in 3 parts ({content.Length} bytes)"], log.Messages(4101));

        // Again, same key, smaller: a multipart upload replaces the object too.
        using var smaller = RandomObject(6 * 1024 * 1024, seed: 6);
        await target.PutObjectAsync(key, smaller.Finish().Bytes, CancellationToken.None);
        AssertSameBytes(smaller.Finish().Bytes.ToArray(), (await s3.GetAsync(key)).Bytes, key);
        Assert.Contains(" in 2 parts ", log.Messages(4101)[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16L * 1024 * 1024)]
    [InlineData(0L)]
    public async Task A_missing_bucket_is_no_such_bucket_naming_the_bucket(long multipartThresholdBytes)
    {
        var settings = s3.Settings("no-such-bucket");
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = settings.Endpoint,
            Bucket = settings.Bucket,
            AccessKeyId = settings.AccessKeyId,
            SecretAccessKey = settings.SecretAccessKey,
            MultipartThresholdBytes = multipartThresholdBytes,
        });
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync("k", new ReadOnlySequence<byte>("x"u8.ToArray()), CancellationToken.None));
        Assert.Equal(DeliveryTargetErrors.NoSuchBucket, error.Code);
        Assert.True(error.Permanent);
        Assert.Contains("'no-such-bucket'", error.Message, StringComparison.Ordinal);
        Assert.Contains(s3.Server.Endpoint.ToString().TrimEnd('/'), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_the_server_does_not_know_are_access_denied()
    {
        var settings = s3.Settings();
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = settings.Endpoint,
            Bucket = settings.Bucket,
            AccessKeyId = "NOT-A-KEY",
            SecretAccessKey = "wrong",
        });
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync("k", new ReadOnlySequence<byte>("x"u8.ToArray()), CancellationToken.None));
        Assert.Equal(DeliveryTargetErrors.AccessDenied, error.Code);
        Assert.True(error.Permanent);
        Assert.Contains("credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stopped_server_is_unreachable_at_once_and_a_restarted_one_takes_objects_again()
    {
        using var directory = new TempDirectory();
        using var server = await S3rverProcess.StartAsync(directory.Path, ["outage"]);
        var settings = S3rverFixture.For(server, "outage");
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = settings.Endpoint,
            Bucket = settings.Bucket,
            AccessKeyId = settings.AccessKeyId,
            SecretAccessKey = settings.SecretAccessKey,
            RequestTimeout = TimeSpan.FromSeconds(3),
        });
        await target.PutObjectAsync("before", new ReadOnlySequence<byte>("1"u8.ToArray()), CancellationToken.None);
        await server.StopAsync();
        Assert.False(server.IsRunning);

        var elapsed = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync("during", new ReadOnlySequence<byte>("2"u8.ToArray()), CancellationToken.None));
        Assert.True(error.Code is DeliveryTargetErrors.Unreachable or DeliveryTargetErrors.Timeout, $"{error.Code}: {error.Message}");
        Assert.False(error.Permanent);
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(10), $"took {elapsed.Elapsed}");

        await server.StartAsync();
        await target.PutObjectAsync("after", new ReadOnlySequence<byte>("3"u8.ToArray()), CancellationToken.None);
        var readBack = new S3ReadBack(server.Endpoint);
        var listed = await readBack.ListWithAwsCliAsync("outage", string.Empty);
        Assert.Equal(["after", "before"], listed.Select(o => o.Key));
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_times_out_after_the_request_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(backlog: 16);
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = new Uri($"http://127.0.0.1:{port}"),
            Bucket = "b-silent",
            AccessKeyId = "k",
            SecretAccessKey = "s",
            RequestTimeout = TimeSpan.FromSeconds(1),
        });
        var elapsed = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync("k", new ReadOnlySequence<byte>("x"u8.ToArray()), CancellationToken.None));
        Assert.Equal(DeliveryTargetErrors.Timeout, error.Code);
        Assert.False(error.Permanent);
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(8), $"took {elapsed.Elapsed}");
    }

    [Fact]
    public async Task A_put_the_caller_cancels_is_canceled_not_a_target_failure()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(backlog: 16);
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = new Uri($"http://127.0.0.1:{port}"),
            Bucket = "b-silent",
            AccessKeyId = "k",
            SecretAccessKey = "s",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => target.PutObjectAsync("k", new ReadOnlySequence<byte>("x"u8.ToArray()), cancel.Token));
    }

    [Fact]
    public void A_profile_that_does_not_exist_is_no_credentials()
    {
        var error = Assert.Throws<DeliveryTargetException>(() => new S3Target(new S3TargetSettings
        {
            Endpoint = s3.Server.Endpoint,
            Bucket = S3rverFixture.Bucket,
            Profile = "streams-tests-no-such-profile-" + Guid.NewGuid().ToString("N"),
        }));
        Assert.Equal(DeliveryTargetErrors.NoCredentials, error.Code);
        Assert.Contains("streams-tests-no-such-profile-", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("B", null, null, 8 * 1024 * 1024)]
    [InlineData("ab", null, null, 8 * 1024 * 1024)]
    [InlineData("bucket_1", null, null, 8 * 1024 * 1024)]
    [InlineData("bucket", "key-only", null, 8 * 1024 * 1024)]
    [InlineData("bucket", null, null, 1024 * 1024)]
    public void Settings_say_what_is_wrong(string bucket, string? accessKeyId, string? secret, int partSizeBytes)
    {
        var settings = new S3TargetSettings { Bucket = bucket, AccessKeyId = accessKeyId, SecretAccessKey = secret, PartSizeBytes = partSizeBytes };
        Assert.Throws<ArgumentException>(settings.Validate);
        Assert.Throws<ArgumentException>(() => new S3Target(settings));
    }

    [Fact]
    public async Task Objects_read_back_byte_for_byte_with_the_aws_cli_and_boto3()
    {
        var prefix = $"interop/{Guid.NewGuid():N}";
        var settings = s3.Settings();
        using var target = new S3Target(new S3TargetSettings
        {
            Endpoint = settings.Endpoint,
            Bucket = settings.Bucket,
            AccessKeyId = settings.AccessKeyId,
            SecretAccessKey = settings.SecretAccessKey,
            MultipartThresholdBytes = S3TargetSettings.MinPartSizeBytes,
            PartSizeBytes = S3TargetSettings.MinPartSizeBytes,
        });

        var uploaded = new Dictionary<string, byte[]>();
        using var json = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.JsonLines, ReadOnlyMemory<byte>.Empty, ObjectCompression.Gzip));
        using var raw = new DeliveryObjectBuilder(ObjectFormat.Default);
        for (var i = 0; i < 100; i++)
        {
            var data = System.Text.Encoding.UTF8.GetBytes($"record {i}: {new string('x', i)}");
            json.Append($"{42 + i:D20}000000", $"key-{i % 7}", _arrival.AddMilliseconds(i), data);
            raw.Append($"{42 + i:D20}000000", $"key-{i % 7}", _arrival.AddMilliseconds(i), data);
        }

        using var large = RandomObject(11 * 1024 * 1024, seed: 11);
        foreach (var (builder, compression) in new[] { (json, ObjectCompression.Gzip), (raw, ObjectCompression.None), (large, ObjectCompression.None) })
        {
            var key = DeliveryObjectKeys.For(prefix, builder.FirstArrival!.Value, "orders-to-s3", "shardId-000000000001", builder.FirstSequenceNumber!, builder.LastSequenceNumber!, compression);
            var content = builder.Finish().Bytes;
            await target.PutObjectAsync(key, content, CancellationToken.None);
            uploaded[key] = content.ToArray();
        }

        // The tools start slowly (about a second each): run them side by side.
        var readBack = new S3ReadBack(s3.Server.Endpoint);
        var listing = readBack.ListWithAwsCliAsync(S3rverFixture.Bucket, prefix + "/");
        var boto3 = readBack.ReadWithBoto3Async(S3rverFixture.Bucket, prefix + "/");
        var copies = uploaded.Keys.ToDictionary(key => key, key => readBack.GetWithAwsCliAsync(S3rverFixture.Bucket, key));
        await Task.WhenAll([listing, boto3, .. copies.Values]);

        var listed = await listing;
        Assert.Equal(uploaded.Keys.Order(StringComparer.Ordinal), listed.Select(o => o.Key));
        Assert.All(listed, o => Assert.Equal(uploaded[o.Key].Length, o.Size));
        foreach (var (key, bytes) in uploaded)
        {
            AssertSameBytes(bytes, await copies[key], $"aws s3 cp of {key}");
        }

        var digests = await boto3;
        Assert.Equal(uploaded.Keys.Order(StringComparer.Ordinal), digests.Select(o => o.Key));
        Assert.All(digests, o =>
        {
            Assert.Equal(uploaded[o.Key].Length, o.Size);
            Assert.Equal(uploaded[o.Key].Length, o.ReadBytes);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(uploaded[o.Key])), o.Sha256);
        });

        // What a consumer of the bucket does with the gzip JSON lines object.
        var gzipKey = uploaded.Keys.Single(k => k.EndsWith(".gz", StringComparison.Ordinal));
        var lines = ObjectReading.JsonLines(ObjectReading.Gunzip(await copies[gzipKey]));
        Assert.Equal(100, lines.Count);
        Assert.True(DeliveryObjectKeys.TryParse(gzipKey, out var parsed));
        Assert.Equal(lines[^1].GetProperty("sequence_number").GetString(), parsed.LastSequenceNumber);
    }

    private static void AssertSameBytes(byte[] expected, byte[] actual, string what) =>
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{what}: expected {expected.Length} bytes (sha256 {Convert.ToHexStringLower(SHA256.HashData(expected))}), read {actual.Length} (sha256 {Convert.ToHexStringLower(SHA256.HashData(actual))})");

    // A raw object of about totalBytes of random data, in pooled chunks.
    private static DeliveryObjectBuilder RandomObject(int totalBytes, int seed)
    {
        var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, ReadOnlyMemory<byte>.Empty, ObjectCompression.None));
        var random = new Random(seed);
        var data = new byte[512 * 1024];
        for (var i = 0; builder.DataBytes < totalBytes; i++)
        {
            random.NextBytes(data);
            builder.Append($"{i + 1:D20}000000", "k", _arrival, data.AsSpan(0, (int)Math.Min(data.Length, totalBytes - builder.DataBytes)));
        }

        return builder;
    }
}
