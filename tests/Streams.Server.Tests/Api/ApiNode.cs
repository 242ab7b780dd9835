using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Server.Tests.Api;

/// <summary>A one-node cluster in-process with a client of its API, for the API tests.</summary>
public sealed class ApiNode : IAsyncDisposable
{
    private static int _names;

    private ApiNode(TestNode node, RpcChannel channel)
    {
        Node = node;
        Channel = channel;
        Streams = new StreamsApiClient(channel);
        Cluster = new ClusterApiClient(channel);
        Consumers = new ConsumersApiClient(channel);
        Firehose = new FirehoseApiClient(channel);
    }

    public TestNode Node { get; }

    public RpcChannel Channel { get; }

    public StreamsApiClient Streams { get; }

    public ClusterApiClient Cluster { get; }

    public ConsumersApiClient Consumers { get; }

    public FirehoseApiClient Firehose { get; }

    public static async Task<ApiNode> StartAsync(params string[] args)
    {
        var node = await TestNode.StartAsync(["--Cluster:TickMilliseconds", "10", .. args]);
        var channel = RpcChannel.ForAddress(node.Node.GrpcAddress, new RpcChannelOptions { MaxReceiveMessageSizeBytes = 64 * 1024 * 1024, MaxSendMessageSizeBytes = 64 * 1024 * 1024 });
        return new ApiNode(node, channel);
    }

    public static CallOptions Deadline(int seconds = 20) => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(seconds) };

    /// <summary>A stream name no other test of the run uses.</summary>
    public static string NewStreamName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Creates a stream and waits until it is ACTIVE.</summary>
    public async Task CreateActiveStreamAsync(string name, int shards)
    {
        await Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = shards }, Deadline());
        await WaitActiveAsync(name);
    }

    /// <summary>Creates a stream with a fresh name and waits until it is ACTIVE.</summary>
    public async Task<string> NewActiveStreamAsync(string prefix, int shards)
    {
        var name = NewStreamName(prefix);
        await CreateActiveStreamAsync(name, shards);
        return name;
    }

    public async Task<StreamDescriptionSummary> DescribeAsync(string name) =>
        (await Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, Deadline())).StreamDescriptionSummary;

    public async Task WaitActiveAsync(string name)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var summary = await DescribeAsync(name);
            if (summary.StreamStatus == StreamStatus.Active)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, $"stream {name} is still {summary.StreamStatus} after 20 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until a deleted stream is gone (DescribeStreamSummary is NOT_FOUND).</summary>
    public async Task WaitGoneAsync(string name) =>
        await WaitUntilAsync(
            async () =>
            {
                try
                {
                    await DescribeAsync(name);
                    return false;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    return true;
                }
            },
            $"stream {name} to be gone");

    /// <summary>Waits until <paramref name="condition"/> holds, failing after 20 s.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"still waiting after 20 s for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Every shard of a stream (all pages), optionally filtered.</summary>
    public async Task<List<Shard>> ListShardsAsync(string stream, ShardFilter? filter = null)
    {
        var shards = new List<Shard>();
        var request = new ListShardsRequest { StreamName = stream, ShardFilter = filter };
        while (true)
        {
            var page = await Streams.ListShardsAsync(request, Deadline());
            shards.AddRange(page.Shards);
            if (page.NextToken.Length == 0)
            {
                return shards;
            }

            request = new ListShardsRequest { NextToken = page.NextToken };
        }
    }

    public async Task<string> IteratorAsync(string stream, string shardId, ShardIteratorType type, string? sequenceNumber = null, DateTimeOffset? timestamp = null)
    {
        var request = new GetShardIteratorRequest { StreamName = stream, ShardId = shardId, ShardIteratorType = type, StartingSequenceNumber = sequenceNumber ?? "" };
        if (timestamp is { } at)
        {
            request.Timestamp = Timestamp.FromDateTimeOffset(at);
        }

        return (await Streams.GetShardIteratorAsync(request, Deadline())).ShardIterator;
    }

    /// <summary>Every record of a shard from the trim horizon, by GetRecords until caught up.</summary>
    public async Task<List<Record>> ReadShardAsync(string stream, string shardId) =>
        await ReadFromAsync(await IteratorAsync(stream, shardId, ShardIteratorType.TrimHorizon));

    /// <summary>Every record from an iterator until caught up (or the end of a closed shard).</summary>
    public async Task<List<Record>> ReadFromAsync(string iterator, int limit = 0)
    {
        var records = new List<Record>();
        while (iterator.Length > 0)
        {
            var page = await Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = limit }, Deadline());
            records.AddRange(page.Records);
            if (page.Records.Count == 0 && page.MillisBehindLatest == 0)
            {
                break;
            }

            iterator = page.NextShardIterator;
        }

        return records;
    }

    /// <summary>Every record of every shard of a stream, by shard id.</summary>
    public async Task<Dictionary<string, List<Record>>> ReadStreamAsync(string stream)
    {
        var all = new Dictionary<string, List<Record>>();
        foreach (var shard in await ListShardsAsync(stream))
        {
            all[shard.ShardId] = await ReadShardAsync(stream, shard.ShardId);
        }

        return all;
    }

    /// <summary>PutRecords that must fully succeed.</summary>
    public async Task<PutRecordsResponse> PutAsync(string stream, params PutRecordsRequestEntry[] entries)
    {
        var request = new PutRecordsRequest { StreamName = stream };
        request.Records.AddRange(entries);
        var response = await Streams.PutRecordsAsync(request, Deadline());
        Assert.Equal(0, response.FailedRecordCount);
        return response;
    }

    public static PutRecordsRequestEntry Entry(string key, string data) => new() { PartitionKey = key, Data = ByteString.CopyFromUtf8(data) };

    public static PutRecordsRequestEntry EntryAt(UInt128 hashKey, string data) =>
        new() { PartitionKey = "k", ExplicitHashKey = hashKey.ToString(CultureInfo.InvariantCulture), Data = ByteString.CopyFromUtf8(data) };

    /// <summary>The 128-bit hash key of a partition key: MD5 of its UTF-8, big-endian (as Kinesis).</summary>
    public static UInt128 HashOf(string partitionKey)
    {
#pragma warning disable CA5351 // MD5 is the placement function under test.
        var digest = MD5.HashData(System.Text.Encoding.UTF8.GetBytes(partitionKey));
#pragma warning restore CA5351
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    public static UInt128 StartOf(Shard shard) => UInt128.Parse(shard.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture);

    public static UInt128 EndOf(Shard shard) => UInt128.Parse(shard.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture);

    /// <summary>The shard among <paramref name="shards"/> whose hash-key range holds <paramref name="key"/>.</summary>
    public static Shard Holding(IEnumerable<Shard> shards, UInt128 key) => Assert.Single(shards, s => StartOf(s) <= key && key <= EndOf(s));

    /// <summary>Sequence numbers of one shard compare by length, then lexically.</summary>
    public static int CompareSequence(string a, string b) =>
        a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    public static IEnumerable<string> Texts(IEnumerable<Record> records) => records.Select(r => r.Data.ToStringUtf8());

    /// <summary>The status and streams-error trailer of a failed call.</summary>
    public static async Task<(StatusCode Code, string? Error, string Message)> FailureOf(Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        return (ex.StatusCode, ex.Trailers.GetValue(StreamsErrors.TrailerName), ex.Status.Detail);
    }

    /// <summary>Asserts a call fails with <paramref name="code"/>, <paramref name="error"/> in the trailer, and a message holding every part.</summary>
    public static async Task<string> AssertFailsAsync(Func<Task> call, StatusCode code, string error, params string[] messageParts)
    {
        var (actualCode, actualError, message) = await FailureOf(call);
        Assert.True(code == actualCode && error == actualError, $"expected {code} {error}, got {actualCode} {actualError}: {message}");
        foreach (var part in messageParts)
        {
            Assert.Contains(part, message, StringComparison.Ordinal);
        }

        return message;
    }

    public static Task<string> AssertInvalidAsync(Func<Task> call, params string[] messageParts) =>
        AssertFailsAsync(call, StatusCode.InvalidArgument, StreamsErrors.InvalidArgument, messageParts);

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Node.DisposeAsync();
    }
}

/// <summary>One node shared by the tests of a class; each test uses streams of its own.</summary>
public sealed class ApiNodeFixture : IAsyncLifetime
{
    private ApiNode? _api;

    public ApiNode Api => _api ?? throw new InvalidOperationException("The node is not started.");

    public async Task InitializeAsync() => _api = await ApiNode.StartAsync();

    public async Task DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }
}
