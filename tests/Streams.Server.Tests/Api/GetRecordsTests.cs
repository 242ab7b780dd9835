using Streams.Client.Api;
using Streams.Rpc;
using Streams.Server.Api;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>GetShardIterator with each type, and GetRecords: pages, millis_behind_latest, tampered and expired iterators.</summary>
public sealed class GetRecordsTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private const string Shard0 = "shardId-000000000000";

    private readonly ApiNode _api = fixture.Api;

    private async Task<(string Stream, List<string> Sequences)> StreamWithRecordsAsync(string prefix, int count)
    {
        var name = await _api.NewActiveStreamAsync(prefix, 1);
        var put = await _api.PutAsync(name, [.. Enumerable.Range(0, count).Select(i => ApiNode.Entry($"k{i}", $"r{i}"))]);
        return (name, [.. put.Records.Select(r => r.SequenceNumber)]);
    }

    [Fact]
    public async Task Each_iterator_type_starts_where_it_says()
    {
        var (name, sequences) = await StreamWithRecordsAsync("types", 6);

        Assert.Equal(["r0", "r1", "r2", "r3", "r4", "r5"], ApiNode.Texts(await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon))));
        Assert.Equal(["r2", "r3", "r4", "r5"], ApiNode.Texts(await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.AtSequenceNumber, sequences[2]))));
        Assert.Equal(["r3", "r4", "r5"], ApiNode.Texts(await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.AfterSequenceNumber, sequences[2]))));
        Assert.Empty(await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.AfterSequenceNumber, sequences[5])));

        // LATEST: only what is written after the iterator was taken.
        var latest = await _api.IteratorAsync(name, Shard0, ShardIteratorType.Latest);
        var empty = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = latest }, ApiNode.Deadline());
        Assert.Empty(empty.Records);
        Assert.Equal(0, empty.MillisBehindLatest);
        Assert.NotEmpty(empty.NextShardIterator);
        await _api.PutAsync(name, ApiNode.Entry("k", "r6"));
        Assert.Equal(["r6"], ApiNode.Texts(await _api.ReadFromAsync(latest)));
        Assert.Equal(["r6"], ApiNode.Texts(await _api.ReadFromAsync(empty.NextShardIterator)));

        // AT_TIMESTAMP: the first record that arrived at or after the time.
        await Task.Delay(30);
        var at = DateTimeOffset.UtcNow;
        await Task.Delay(30);
        await _api.PutAsync(name, ApiNode.Entry("k", "r7"), ApiNode.Entry("k", "r8"));
        Assert.Equal(["r7", "r8"], ApiNode.Texts(await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.AtTimestamp, timestamp: at))));
        Assert.Equal(9, (await _api.ReadFromAsync(await _api.IteratorAsync(name, Shard0, ShardIteratorType.AtTimestamp, timestamp: at.AddHours(-1)))).Count);
        var future = await _api.IteratorAsync(name, Shard0, ShardIteratorType.AtTimestamp, timestamp: at.AddHours(1));
        Assert.Empty(await _api.ReadFromAsync(future));
    }

    [Fact]
    public async Task GetRecords_pages_by_limit_and_next_shard_iterator()
    {
        var (name, sequences) = await StreamWithRecordsAsync("paging", 25);
        var iterator = await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon);
        var pages = new List<int>();
        var read = new List<string>();
        while (true)
        {
            var page = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10 }, ApiNode.Deadline());
            Assert.NotEmpty(page.NextShardIterator);
            Assert.Empty(page.ChildShards);
            if (page.Records.Count == 0)
            {
                Assert.Equal(0, page.MillisBehindLatest);
                break;
            }

            pages.Add(page.Records.Count);
            read.AddRange(page.Records.Select(r => r.SequenceNumber));
            iterator = page.NextShardIterator;
        }

        Assert.Equal([10, 10, 5], pages);
        Assert.Equal(sequences, read);

        // An old iterator can be read again: it is a position, not a cursor.
        var again = await _api.IteratorAsync(name, Shard0, ShardIteratorType.AtSequenceNumber, sequences[20]);
        var first = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = again, Limit = 2 }, ApiNode.Deadline());
        var second = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = again, Limit = 2 }, ApiNode.Deadline());
        Assert.Equal(first.Records.Select(r => r.SequenceNumber), second.Records.Select(r => r.SequenceNumber));
        Assert.Equal(sequences.Skip(20).Take(2), first.Records.Select(r => r.SequenceNumber));
    }

    [Fact]
    public async Task Millis_behind_latest_is_how_far_the_last_record_read_is_behind_and_0_when_caught_up()
    {
        var name = await _api.NewActiveStreamAsync("behind", 1);
        await _api.PutAsync(name, ApiNode.Entry("k", "old"));
        await Task.Delay(300);
        await _api.PutAsync(name, ApiNode.Entry("k", "new"));

        var iterator = await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon);
        var behind = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 1 }, ApiNode.Deadline());
        Assert.Equal(["old"], ApiNode.Texts(behind.Records));
        Assert.InRange(behind.MillisBehindLatest, 250, 60_000);

        var caughtUp = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = behind.NextShardIterator, Limit = 1 }, ApiNode.Deadline());
        Assert.Equal(["new"], ApiNode.Texts(caughtUp.Records));
        Assert.Equal(0, caughtUp.MillisBehindLatest);

        var all = await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator }, ApiNode.Deadline());
        Assert.Equal(2, all.Records.Count);
        Assert.Equal(0, all.MillisBehindLatest);
    }

    [Fact]
    public async Task An_iterator_with_one_changed_character_is_invalid_argument()
    {
        var (name, _) = await StreamWithRecordsAsync("tamper", 3);
        var iterator = await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon);
        Assert.Equal(3, (await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator }, ApiNode.Deadline())).Records.Count);

        foreach (var at in new[] { 0, iterator.Length / 2, iterator.Length - 1 })
        {
            var chars = iterator.ToCharArray();
            chars[at] = chars[at] == 'A' ? 'B' : 'A';
            var tampered = new string(chars);
            await ApiNode.AssertInvalidAsync(() => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = tampered }, ApiNode.Deadline()).ResponseAsync, "shard_iterator", "altered");
        }

        await ApiNode.AssertInvalidAsync(() => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator + "A" }, ApiNode.Deadline()).ResponseAsync, "shard_iterator");
        await ApiNode.AssertInvalidAsync(() => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator[..^1] }, ApiNode.Deadline()).ResponseAsync, "shard_iterator");
        await ApiNode.AssertInvalidAsync(() => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "not an iterator!" }, ApiNode.Deadline()).ResponseAsync, "shard_iterator");
        await ApiNode.AssertInvalidAsync(() => _api.Streams.GetRecordsAsync(new GetRecordsRequest(), ApiNode.Deadline()).ResponseAsync, "shard_iterator is empty");
    }

    [Fact]
    public async Task An_iterator_older_than_five_minutes_is_expired()
    {
        var (name, _) = await StreamWithRecordsAsync("expired", 2);
        var iterator = await _api.IteratorAsync(name, Shard0, ShardIteratorType.TrimHorizon);

        // The same iterator, signed with the cluster's key but issued six minutes ago.
        var secret = _api.Node.Node.Cluster.Metadata.IteratorSecret;
        var codec = new ShardIteratorCodec(secret.AsSpan(), TimeProvider.System);
        var decoded = codec.Decode(iterator);
        var old = codec.Encode(decoded with { IssuedAtMs = DateTimeOffset.UtcNow.AddMinutes(-6).ToUnixTimeMilliseconds() });
        var recent = codec.Encode(decoded with { IssuedAtMs = DateTimeOffset.UtcNow.AddMinutes(-4).ToUnixTimeMilliseconds() });

        Assert.Equal(2, (await _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = recent }, ApiNode.Deadline())).Records.Count);
        await ApiNode.AssertFailsAsync(
            () => _api.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = old }, ApiNode.Deadline()).ResponseAsync,
            StatusCode.FailedPrecondition, StreamsErrors.ExpiredIterator, "expired", "GetShardIterator");
    }

    [Fact]
    public void The_codec_expires_iterators_after_five_minutes_of_its_clock()
    {
        var clock = new ManualTime(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var codec = new ShardIteratorCodec(key, clock);
        var text = codec.Encode(7, 42, new SequenceNumber(5, 3), 1234);

        var decoded = codec.Decode(text);
        Assert.Equal(7, decoded.StreamId);
        Assert.Equal(42, decoded.GroupId);
        Assert.Equal(new SequenceNumber(5, 3), decoded.Position);
        Assert.Equal(1234, decoded.MinArrivalMs);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), decoded.IssuedAtMs);

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(decoded, codec.Decode(text));

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var expired = Assert.Throws<StreamsApiException>(() => codec.Decode(text));
        Assert.Equal(StatusCode.FailedPrecondition, expired.Code);
        Assert.Equal(StreamsErrors.ExpiredIterator, expired.ErrorName);
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);

        // Another cluster's key does not accept it.
        var other = new ShardIteratorCodec(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray(), clock);
        var foreign = Assert.Throws<StreamsApiException>(() => other.Decode(codec.Encode(1, 1, new SequenceNumber(1, 0))));
        Assert.Equal(StatusCode.InvalidArgument, foreign.Code);
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
