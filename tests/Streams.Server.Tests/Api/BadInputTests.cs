using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>A node with one stream holding known records, for the bad-input tests.</summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    public const string Stream = "bad-input";

    public const int Records = 40;

    private ApiNode? _api;

    public ApiNode Api => _api ?? throw new InvalidOperationException("The node is not started.");

    /// <summary>What the stream holds, by shard, before any bad request.</summary>
    public Dictionary<string, List<string>> Stored { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _api = await ApiNode.StartAsync();
        await _api.CreateActiveStreamAsync(Stream, 2);
        await _api.PutAsync(Stream, [.. Enumerable.Range(0, Records).Select(i => ApiNode.Entry($"key-{i % 7}", $"stored-{i}"))]);
        Stored = (await _api.ReadStreamAsync(Stream)).ToDictionary(s => s.Key, s => s.Value.Select(r => r.SequenceNumber + "=" + r.Data.ToStringUtf8()).ToList());
    }

    public async Task DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }
}

/// <summary>
/// Every kind of bad input: the status code, the streams-error name, a message naming the field
/// and the limit; and that the stream's records and shards are as they were afterwards.
/// </summary>
public sealed class BadInputTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    private const string Stream = BadInputFixture.Stream;
    private const string Shard0 = "shardId-000000000000";
    private const string TwoTo128 = "340282366920938463463374607431768211456";

    private readonly ApiNode _api = fixture.Api;

    private sealed record Case(Func<StreamsApiClient, Task> Call, StatusCode Code, string Error, params string[] MessageParts);

    private static Case Invalid(Func<StreamsApiClient, Task> call, params string[] parts) => new(call, StatusCode.InvalidArgument, StreamsErrors.InvalidArgument, parts);

    private static Case NotFound(Func<StreamsApiClient, Task> call, params string[] parts) => new(call, StatusCode.NotFound, StreamsErrors.ResourceNotFound, parts);

    private static ByteString Bytes(int count) => ByteString.CopyFrom(new byte[count]);

    private static PutRecordsRequestEntry Entry(string key = "k", string explicitHashKey = "", int dataBytes = 1) =>
        new() { PartitionKey = key, ExplicitHashKey = explicitHashKey, Data = Bytes(dataBytes) };

    private static PutRecordsRequest Put(params PutRecordsRequestEntry[] records)
    {
        var request = new PutRecordsRequest { StreamName = Stream };
        request.Records.AddRange(records);
        return request;
    }

    private static GetShardIteratorRequest Iterator(ShardIteratorType type, string sequence = "", Timestamp? at = null, string shard = Shard0, string stream = Stream) =>
        new() { StreamName = stream, ShardId = shard, ShardIteratorType = type, StartingSequenceNumber = sequence, Timestamp = at };

    private static readonly string _longName = new('s', 129);
    private static readonly string _longKey = new('p', 257);

    // Operations that take a stream name, each with that name.
    private static readonly Dictionary<string, Func<StreamsApiClient, string, Task>> _namedOperations = new()
    {
        ["CreateStream"] = (c, n) => c.CreateStreamAsync(new CreateStreamRequest { StreamName = n, ShardCount = 1 }, ApiNode.Deadline()).ResponseAsync,
        ["DeleteStream"] = (c, n) => c.DeleteStreamAsync(new DeleteStreamRequest { StreamName = n }, ApiNode.Deadline()).ResponseAsync,
        ["DescribeStreamSummary"] = (c, n) => c.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = n }, ApiNode.Deadline()).ResponseAsync,
        ["ListShards"] = (c, n) => c.ListShardsAsync(new ListShardsRequest { StreamName = n }, ApiNode.Deadline()).ResponseAsync,
        ["PutRecord"] = (c, n) => c.PutRecordAsync(new PutRecordRequest { StreamName = n, PartitionKey = "k" }, ApiNode.Deadline()).ResponseAsync,
        ["PutRecords"] = (c, n) => c.PutRecordsAsync(new PutRecordsRequest { StreamName = n, Records = { Entry() } }, ApiNode.Deadline()).ResponseAsync,
        ["GetShardIterator"] = (c, n) => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, stream: n), ApiNode.Deadline()).ResponseAsync,
        ["SplitShard"] = (c, n) => c.SplitShardAsync(new SplitShardRequest { StreamName = n, ShardToSplit = Shard0, NewStartingHashKey = "1000" }, ApiNode.Deadline()).ResponseAsync,
        ["MergeShards"] = (c, n) => c.MergeShardsAsync(new MergeShardsRequest { StreamName = n, ShardToMerge = Shard0, AdjacentShardToMerge = "shardId-000000000001" }, ApiNode.Deadline()).ResponseAsync,
        ["UpdateShardCount"] = (c, n) => c.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = n, TargetShardCount = 3 }, ApiNode.Deadline()).ResponseAsync,
        ["IncreaseStreamRetentionPeriod"] = (c, n) => c.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = n, RetentionPeriodHours = 48 }, ApiNode.Deadline()).ResponseAsync,
        ["DecreaseStreamRetentionPeriod"] = (c, n) => c.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = n, RetentionPeriodHours = 24 }, ApiNode.Deadline()).ResponseAsync,
        ["SubscribeToShard"] = async (c, n) =>
        {
            using var call = c.SubscribeToShard(new SubscribeToShardRequest { StreamName = n, ShardId = Shard0, StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon } }, ApiNode.Deadline());
            await call.ResponseStream.MoveNext();
        },
    };

    private static readonly Dictionary<string, string> _badNames = new()
    {
        ["empty"] = "",
        ["129 characters"] = _longName,
        ["a space"] = "bad name",
        ["a slash"] = "bad/name",
        ["a colon"] = "bad:name",
        ["non-ASCII letters"] = "strëam",
    };

    public static TheoryData<string, string> BadNameCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var operation in _namedOperations.Keys)
        {
            foreach (var name in _badNames.Keys)
            {
                data.Add(operation, name);
            }
        }

        return data;
    }

    public static TheoryData<string> UnknownStreamCases() => [.. _namedOperations.Keys.Where(k => k != "CreateStream")];

    private static readonly Dictionary<string, Case> _cases = new()
    {
        // CreateStream
        ["shard_count 0"] = Invalid(c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "never-created", ShardCount = 0 }, ApiNode.Deadline()).ResponseAsync, "shard_count", "0", "at least 1"),
        ["shard_count -1"] = Invalid(c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "never-created", ShardCount = -1 }, ApiNode.Deadline()).ResponseAsync, "shard_count", "-1", "at least 1"),
        ["shard_count 501"] = new(c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "never-created", ShardCount = 501 }, ApiNode.Deadline()).ResponseAsync, StatusCode.ResourceExhausted, StreamsErrors.LimitExceeded, "shard_count", "501", "500"),

        // Shards
        ["unknown shard"] = NotFound(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, shard: "shardId-000000000099"), ApiNode.Deadline()).ResponseAsync, "shardId-000000000099", Stream),
        ["empty shard id"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, shard: ""), ApiNode.Deadline()).ResponseAsync, "shard_id", "empty"),
        ["malformed shard id"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, shard: "shard-0"), ApiNode.Deadline()).ResponseAsync, "shard_id", "shardId-000000000000", "shard-0"),
        ["shard id with letters"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, shard: "shardId-00000000000x"), ApiNode.Deadline()).ResponseAsync, "shard_id", "shardId-00000000000x"),
        ["shard id too long"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, shard: "shardId-0000000000000"), ApiNode.Deadline()).ResponseAsync, "shard_id"),

        // Records
        ["PutRecord data over 1 MiB"] = Invalid(c => c.PutRecordAsync(new PutRecordRequest { StreamName = Stream, PartitionKey = "k", Data = Bytes((1024 * 1024) + 1) }, ApiNode.Deadline()).ResponseAsync, "data has 1048577 bytes", "1048576"),
        ["PutRecords data over 1 MiB"] = Invalid(c => c.PutRecordsAsync(Put(Entry(), Entry(dataBytes: (1024 * 1024) + 1)), ApiNode.Deadline()).ResponseAsync, "records[1].data", "1048577", "1048576"),
        ["PutRecord partition key empty"] = Invalid(c => c.PutRecordAsync(new PutRecordRequest { StreamName = Stream, PartitionKey = "" }, ApiNode.Deadline()).ResponseAsync, "partition_key is empty", "256"),
        ["PutRecords partition key empty"] = Invalid(c => c.PutRecordsAsync(Put(Entry(), Entry(), Entry(key: "")), ApiNode.Deadline()).ResponseAsync, "records[2].partition_key is empty", "256"),
        ["PutRecord partition key 257"] = Invalid(c => c.PutRecordAsync(new PutRecordRequest { StreamName = Stream, PartitionKey = _longKey }, ApiNode.Deadline()).ResponseAsync, "partition_key has 257 characters", "256"),
        ["PutRecords partition key 257"] = Invalid(c => c.PutRecordsAsync(Put(Entry(key: _longKey)), ApiNode.Deadline()).ResponseAsync, "records[0].partition_key has 257 characters", "256"),
        ["501 records"] = Invalid(c => c.PutRecordsAsync(Put([.. Enumerable.Range(0, 501).Select(_ => Entry())]), ApiNode.Deadline()).ResponseAsync, "records has 501 records", "500"),
        ["no records"] = Invalid(c => c.PutRecordsAsync(Put(), ApiNode.Deadline()).ResponseAsync, "records is empty", "500"),
        ["over 5 MiB in one request"] = Invalid(c => c.PutRecordsAsync(Put([.. Enumerable.Range(0, 6).Select(_ => Entry(dataBytes: 1_000_000))]), ApiNode.Deadline()).ResponseAsync, "records hold 6000006 bytes", "5242880"),
        ["explicit_hash_key not a number"] = Invalid(c => c.PutRecordsAsync(Put(Entry(explicitHashKey: "12ab")), ApiNode.Deadline()).ResponseAsync, "records[0].explicit_hash_key", "[0, 2^128 - 1]", "12ab"),
        ["explicit_hash_key negative"] = Invalid(c => c.PutRecordsAsync(Put(Entry(explicitHashKey: "-1")), ApiNode.Deadline()).ResponseAsync, "explicit_hash_key", "[0, 2^128 - 1]"),
        ["explicit_hash_key with spaces"] = Invalid(c => c.PutRecordsAsync(Put(Entry(explicitHashKey: " 1")), ApiNode.Deadline()).ResponseAsync, "explicit_hash_key", "[0, 2^128 - 1]"),
        ["explicit_hash_key 2^128"] = Invalid(c => c.PutRecordsAsync(Put(Entry(explicitHashKey: TwoTo128)), ApiNode.Deadline()).ResponseAsync, "explicit_hash_key", "[0, 2^128 - 1]", TwoTo128),
        ["PutRecord explicit_hash_key 2^128"] = Invalid(c => c.PutRecordAsync(new PutRecordRequest { StreamName = Stream, PartitionKey = "k", ExplicitHashKey = TwoTo128 }, ApiNode.Deadline()).ResponseAsync, "explicit_hash_key", "[0, 2^128 - 1]"),

        // GetRecords
        ["limit 10001"] = Invalid(c => c.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "x", Limit = 10_001 }, ApiNode.Deadline()).ResponseAsync, "limit is 10001", "1 to 10000"),
        ["limit -1"] = Invalid(c => c.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "x", Limit = -1 }, ApiNode.Deadline()).ResponseAsync, "limit is -1", "1 to 10000"),

        // GetShardIterator
        ["iterator type unspecified"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.Unspecified), ApiNode.Deadline()).ResponseAsync, "shard_iterator_type is SHARD_ITERATOR_TYPE_UNSPECIFIED", "TRIM_HORIZON"),
        ["iterator type unknown"] = Invalid(c => c.GetShardIteratorAsync(Iterator((ShardIteratorType)42), ApiNode.Deadline()).ResponseAsync, "shard_iterator_type is 42", "AT_TIMESTAMP"),
        ["AT_SEQUENCE_NUMBER without a sequence number"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtSequenceNumber), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number is empty", "AT_SEQUENCE_NUMBER needs"),
        ["AFTER_SEQUENCE_NUMBER without a sequence number"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AfterSequenceNumber), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number is empty", "AFTER_SEQUENCE_NUMBER needs"),
        ["sequence number not digits"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtSequenceNumber, "abc"), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number", "26 decimal digits", "'abc'"),
        ["sequence number too short"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AfterSequenceNumber, "1"), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number", "26 decimal digits"),
        ["sequence number too long"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtSequenceNumber, new string('1', 27)), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number", "26 decimal digits"),
        ["sequence number beyond ulong"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtSequenceNumber, new string('9', 26)), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number", "26 decimal digits"),
        ["sequence number beyond the shard"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtSequenceNumber, "00000000001000000000000000"), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number", "beyond the last record", Shard0),
        ["sequence number with TRIM_HORIZON"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, "00000000000000000001000000"), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number is set", "TRIM_HORIZON does not use it"),
        ["sequence number with LATEST"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.Latest, "00000000000000000001000000"), ApiNode.Deadline()).ResponseAsync, "starting_sequence_number is set"),
        ["timestamp with TRIM_HORIZON"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.TrimHorizon, at: Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)), ApiNode.Deadline()).ResponseAsync, "timestamp is set", "TRIM_HORIZON does not use it", "AT_TIMESTAMP"),
        ["timestamp with LATEST"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.Latest, at: Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)), ApiNode.Deadline()).ResponseAsync, "timestamp is set"),
        ["timestamp with AFTER_SEQUENCE_NUMBER"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AfterSequenceNumber, "00000000000000000001000000", Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)), ApiNode.Deadline()).ResponseAsync, "timestamp is set"),
        ["AT_TIMESTAMP without a timestamp"] = Invalid(c => c.GetShardIteratorAsync(Iterator(ShardIteratorType.AtTimestamp), ApiNode.Deadline()).ResponseAsync, "timestamp is missing", "AT_TIMESTAMP"),
    };

    public static TheoryData<string> Cases() => [.. _cases.Keys];

    [Theory]
    [MemberData(nameof(BadNameCases))]
    public async Task A_bad_stream_name_is_invalid_argument(string operation, string badName)
    {
        await ApiNode.AssertInvalidAsync(() => _namedOperations[operation](_api.Streams, _badNames[badName]), "stream_name", "128");
    }

    [Theory]
    [MemberData(nameof(UnknownStreamCases))]
    public async Task An_unknown_stream_is_not_found(string operation)
    {
        await ApiNode.AssertFailsAsync(() => _namedOperations[operation](_api.Streams, "no-such-stream"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "no-such-stream");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_refused_with_a_message_naming_the_field_and_limit(string name)
    {
        var bad = _cases[name];
        await ApiNode.AssertFailsAsync(() => bad.Call(_api.Streams), bad.Code, bad.Error, bad.MessageParts);
    }

    [Fact]
    public async Task Values_at_the_limits_are_accepted()
    {
        var name = new string('a', 121) + "-limits";
        Assert.Equal(128, name.Length);
        await _api.CreateActiveStreamAsync(name, 1);
        var put = new PutRecordsRequest { StreamName = name };
        put.Records.Add(new PutRecordsRequestEntry { PartitionKey = new string('p', 256), Data = Bytes(1024 * 1024) });
        put.Records.Add(new PutRecordsRequestEntry { PartitionKey = "ü", ExplicitHashKey = UInt128.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), Data = Bytes(0) });
        put.Records.AddRange(Enumerable.Range(0, 498).Select(_ => Entry()));
        var response = await _api.Streams.PutRecordsAsync(put, ApiNode.Deadline());
        Assert.Equal(0, response.FailedRecordCount);
        Assert.Equal(500, response.Records.Count);

        var iterator = await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon);
        var page = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, ApiNode.Deadline());
        Assert.Equal(500, page.Records.Count);
        Assert.Equal(1024 * 1024, page.Records[0].Data.Length);
        Assert.Equal(256, page.Records[0].PartitionKey.Length);
        await _api.Streams.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name }, ApiNode.Deadline());
    }

    [Fact]
    public async Task Refused_requests_change_nothing_stored()
    {
        // A request with one bad record among good ones writes none of them.
        var mixed = Put([.. Enumerable.Range(0, 499).Select(i => ApiNode.Entry($"k{i}", "must-not-land"))]);
        mixed.Records.Add(Entry(explicitHashKey: "not-a-number"));
        await ApiNode.AssertInvalidAsync(() => _api.Streams.PutRecordsAsync(mixed, ApiNode.Deadline()).ResponseAsync, "records[499].explicit_hash_key");

        foreach (var bad in _cases.Values)
        {
            await ApiNode.FailureOf(() => bad.Call(_api.Streams));
        }

        foreach (var operation in _namedOperations.Values)
        {
            await ApiNode.FailureOf(() => operation(_api.Streams, "bad name"));
        }

        await ApiNode.FailureOf(() => _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = Stream, ShardToSplit = Shard0, NewStartingHashKey = TwoTo128 }, ApiNode.Deadline()).ResponseAsync);
        await ApiNode.FailureOf(() => _api.Streams.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = Stream, TargetShardCount = 5 }, ApiNode.Deadline()).ResponseAsync);
        await ApiNode.FailureOf(() => _api.Streams.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = Stream, RetentionPeriodHours = 12 }, ApiNode.Deadline()).ResponseAsync);

        var summary = await _api.DescribeAsync(Stream);
        Assert.Equal(StreamStatus.Active, summary.StreamStatus);
        Assert.Equal(2, summary.ShardCount);
        Assert.Equal(2, summary.OpenShardCount);
        Assert.Equal(24, summary.RetentionPeriodHours);
        Assert.DoesNotContain("never-created", (await _api.Streams.ListStreamsAsync(new ListStreamsRequest(), ApiNode.Deadline())).StreamNames);

        var stored = (await _api.ReadStreamAsync(Stream)).ToDictionary(s => s.Key, s => s.Value.Select(r => r.SequenceNumber + "=" + r.Data.ToStringUtf8()).ToList());
        Assert.Equal(fixture.Stored, stored);
        Assert.Equal(BadInputFixture.Records, stored.Values.Sum(r => r.Count));
    }
}
