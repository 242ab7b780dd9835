using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Client.Routing;

namespace Streams.Server.Tests.Routing;

public sealed class HashKeyTests
{
    // Expected values: int.from_bytes(hashlib.md5(key.encode()).digest(), 'big') in Python.
    [Theory]
    [InlineData("key", "80325066489831061459460196859901989661")]
    [InlineData("", "281949768489412648962353822266799178366")]
    [InlineData("partition-1", "198019941650871988756153596255032211816")]
    [InlineData("héllo", "252973414135665226741597071662034525008")]
    public void A_partition_key_hashes_to_the_big_endian_MD5_of_its_UTF8_bytes(string partitionKey, string expected)
    {
        Assert.Equal(expected, HashKey.Format(HashKey.FromPartitionKey(partitionKey)));
        Assert.Equal(expected, HashKey.Format(HashKey.FromUtf8(Encoding.UTF8.GetBytes(partitionKey))));
    }

    [Fact]
    public void A_partition_key_longer_than_the_stack_buffer_hashes_the_same_as_its_bytes()
    {
        var key = new string('ü', 2000);
        Assert.Equal(HashKey.FromUtf8(Encoding.UTF8.GetBytes(key)), HashKey.FromPartitionKey(key));
    }

    [Fact]
    public void Hashing_a_short_partition_key_does_not_allocate()
    {
        const string key = "customer-42";
        _ = HashKey.FromPartitionKey(key);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _ = HashKey.FromPartitionKey(key);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Any_hash_key_formats_to_decimal_and_parses_back() =>
        Prop.ForAll(RoutingGenerators.HashKeys.ToArbitrary(), key =>
        {
            var text = HashKey.Format(key);
            Assert.True(HashKey.TryParse(text, out var parsed));
            Assert.Equal(key, parsed);
            Assert.Equal(key, HashKey.Parse(text, "explicit_hash_key"));
            Span<char> buffer = stackalloc char[HashKey.MaxDigits];
            Assert.True(HashKey.TryFormat(key, buffer, out var written));
            Assert.Equal(text, buffer[..written].ToString());
        })
        .QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("0", "0")]
    [InlineData("340282366920938463463374607431768211455", "340282366920938463463374607431768211455")]
    [InlineData("007", "7")]
    public void Parses_the_edges_of_the_range(string text, string expected) =>
        Assert.Equal(expected, HashKey.Format(HashKey.Parse(text, "explicit_hash_key")));

    [Theory]
    [InlineData("")]
    [InlineData("340282366920938463463374607431768211456")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1,000")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("١٢")]
    public void Refuses_anything_but_decimal_digits_in_range_naming_the_field(string text)
    {
        Assert.False(HashKey.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => HashKey.Parse(text, "explicit_hash_key"));
        Assert.StartsWith("explicit_hash_key must be a decimal integer in [0, 2^128 - 1]", error.Message, StringComparison.Ordinal);
    }
}
