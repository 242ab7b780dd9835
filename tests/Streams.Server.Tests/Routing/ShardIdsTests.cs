using Streams.Server.Routing;

namespace Streams.Server.Tests.Routing;

public sealed class ShardIdsTests
{
    [Theory]
    [InlineData(0, "shardId-000000000000")]
    [InlineData(7, "shardId-000000000007")]
    [InlineData(int.MaxValue, "shardId-002147483647")]
    public void Formats_and_parses_zero_padded_ids(int number, string id)
    {
        Assert.Equal(id, ShardIds.Format(number));
        Assert.True(ShardIds.TryParse(id, out var parsed));
        Assert.Equal(number, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("shardId-1")]
    [InlineData("shardid-000000000001")]
    [InlineData("shardId-00000000000x")]
    [InlineData("shardId-999999999999")]
    [InlineData("shardId-0000000000001")]
    public void Refuses_what_is_not_a_shard_id(string text)
    {
        Assert.False(ShardIds.TryParse(text, out _));
        Assert.StartsWith("shard_id must be a shard id like shardId-000000000000", ShardIds.ParseError("shard_id", text), StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_sort_as_their_numbers() =>
        Assert.True(string.CompareOrdinal(ShardIds.Format(9), ShardIds.Format(10)) < 0);
}
