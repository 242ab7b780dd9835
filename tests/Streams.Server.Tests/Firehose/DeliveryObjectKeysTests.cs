using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Firehose.Output;

namespace Streams.Server.Tests.Firehose;

public sealed class DeliveryObjectKeysTests
{
    private const string Shard = "shardId-000000000001";
    private const string First = "00000000000000000042000000";
    private const string Last = "00000000000000000057000003";
    private static readonly DateTimeOffset _arrival = new(2026, 11, 21, 18, 53, 0, TimeSpan.Zero);

    private static readonly Gen<KeyCase> _keyCases =
        from prefix in FirehoseGenerators.Prefixes
        from name in FirehoseGenerators.DeliveryNames
        from shard in FirehoseGenerators.ShardIdGen
        from range in FirehoseGenerators.SequenceRanges
        from arrival in FirehoseGenerators.Arrivals
        from compression in Gen.Elements(ObjectCompression.None, ObjectCompression.Gzip)
        from errorCode in Gen.Elements<string?>(null, "DelimiterInData", "a-b")
        select new KeyCase(prefix, name, shard, range.First, range.Last, arrival, compression, errorCode);

    [Fact]
    public void A_key_is_prefix_utc_hour_folders_then_delivery_shard_and_sequence_range()
    {
        Assert.Equal(
            "logs/2026/11/21/18/orders-to-s3-shardId-000000000001-00000000000000000042000000-00000000000000000057000003.gz",
            DeliveryObjectKeys.For("logs", _arrival, "orders-to-s3", Shard, First, Last, ObjectCompression.Gzip));
        Assert.Equal(
            "logs/2026/11/21/18/orders-to-s3-shardId-000000000001-00000000000000000042000000-00000000000000000057000003",
            DeliveryObjectKeys.For("logs/", _arrival, "orders-to-s3", Shard, First, Last, ObjectCompression.None));
    }

    [Fact]
    public void An_empty_prefix_starts_the_key_at_the_year()
    {
        Assert.Equal(
            "2026/11/21/18/d-shardId-000000000001-00000000000000000042000000-00000000000000000057000003",
            DeliveryObjectKeys.For(string.Empty, _arrival, "d", Shard, First, Last, ObjectCompression.None));
    }

    [Fact]
    public void The_hour_is_the_utc_hour_of_the_first_arrival()
    {
        // 00:30 at +02:00 is 22:30 UTC the day before.
        var arrival = new DateTimeOffset(2027, 1, 1, 0, 30, 0, TimeSpan.FromHours(2));
        Assert.StartsWith("p/2026/12/31/22/", DeliveryObjectKeys.For("p", arrival, "d", Shard, First, Last, ObjectCompression.None), StringComparison.Ordinal);
    }

    [Fact]
    public void Error_keys_go_under_the_error_prefix_and_code()
    {
        Assert.Equal(
            "errors/DelimiterInData/2026/11/21/18/orders-to-s3-shardId-000000000001-00000000000000000042000000-00000000000000000057000003.gz",
            DeliveryObjectKeys.ForErrors("errors/", "DelimiterInData", _arrival, "orders-to-s3", Shard, First, Last, ObjectCompression.Gzip));
        Assert.Equal(
            "failed/x/DelimiterInData/2026/11/21/18/orders-to-s3-shardId-000000000001-00000000000000000042000000-00000000000000000057000003",
            DeliveryObjectKeys.ForErrors("failed/x", "DelimiterInData", _arrival, "orders-to-s3", Shard, First, Last, ObjectCompression.None));
        Assert.StartsWith(
            "DelimiterInData/2026/",
            DeliveryObjectKeys.ForErrors(string.Empty, "DelimiterInData", _arrival, "orders-to-s3", Shard, First, Last, ObjectCompression.None),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_gives_back_the_parts_of_any_key() =>
        Prop.ForAll(_keyCases.ToArbitrary(), c =>
        {
            var key = c.ErrorCode is null
                ? DeliveryObjectKeys.For(c.Prefix, c.Arrival, c.Name, c.Shard, c.First, c.Last, c.Compression)
                : DeliveryObjectKeys.ForErrors(c.Prefix, c.ErrorCode, c.Arrival, c.Name, c.Shard, c.First, c.Last, c.Compression);
            Assert.True(DeliveryObjectKeys.TryParse(key, out var parsed), key);
            var folder = c.Prefix.Length == 0 || c.Prefix.EndsWith('/') ? c.Prefix : c.Prefix + "/";
            Assert.Equal(c.ErrorCode is null ? folder : folder + c.ErrorCode + "/", parsed.Prefix);
            var utc = c.Arrival.UtcDateTime;
            Assert.Equal(new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero), parsed.Hour);
            Assert.Equal(c.Name, parsed.DeliveryName);
            Assert.Equal(c.Shard, parsed.ShardId);
            Assert.Equal(c.First, parsed.FirstSequenceNumber);
            Assert.Equal(c.Last, parsed.LastSequenceNumber);
            Assert.Equal(c.Compression, parsed.Compression);
            Assert.DoesNotContain("//", key, StringComparison.Ordinal);
        })
        .QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("")]
    [InlineData("orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/13/21/18/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/02/30/18/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/24/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/8/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/18/-shardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/18/ordersshardId-000000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/18/orders-shardId-00000000001-00000000000000000042000000-00000000000000000057000003")]
    [InlineData("2026/11/21/18/orders-shardId-000000000001-0000000000000000004200000x-00000000000000000057000003")]
    [InlineData("2026/11/21/18/orders-shardId-000000000001-00000000000000000042000000_00000000000000000057000003")]
    [InlineData("2026/11/21/18/orders-shardId-000000000001-00000000000000000042000000-00000000000000000057000003.zip")]
    public void Parse_refuses_what_is_not_a_delivery_object_key(string key)
    {
        Assert.False(DeliveryObjectKeys.TryParse(key, out var parsed));
        Assert.Null(parsed);
    }

    [Theory]
    [InlineData("a/b", Shard, First, Last)]
    [InlineData("", Shard, First, Last)]
    [InlineData("d", "shardId-1", First, Last)]
    [InlineData("d", Shard, "42", Last)]
    [InlineData("d", Shard, First, "x")]
    [InlineData("d", Shard, Last, First)]
    public void Keys_refuse_parts_that_would_not_parse_back(string name, string shard, string first, string last)
    {
        Assert.ThrowsAny<ArgumentException>(() => DeliveryObjectKeys.For("p", _arrival, name, shard, first, last, ObjectCompression.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    public void Error_keys_refuse_an_error_code_that_is_not_one_folder(string code)
    {
        Assert.ThrowsAny<ArgumentException>(() => DeliveryObjectKeys.ForErrors("errors", code, _arrival, "d", Shard, First, Last, ObjectCompression.None));
    }

    private sealed record KeyCase(string Prefix, string Name, string Shard, string First, string Last, DateTimeOffset Arrival, ObjectCompression Compression, string? ErrorCode);
}
