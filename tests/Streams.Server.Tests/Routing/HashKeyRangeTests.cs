using Streams.Server.Routing;

namespace Streams.Server.Tests.Routing;

public sealed class HashKeyRangeTests
{
    [Fact]
    public void Two_even_parts_meet_at_2_to_the_127()
    {
        var parts = HashKeyRange.Even(2);
        Assert.Equal("[0, 170141183460469231731687303715884105727]", parts[0].ToString());
        Assert.Equal("[170141183460469231731687303715884105728, 340282366920938463463374607431768211455]", parts[1].ToString());
    }

    [Fact]
    public void Three_even_parts_start_where_Kinesis_starts_them()
    {
        var parts = HashKeyRange.Even(3);
        Assert.Equal(UInt128.Parse("113427455640312821154458202477256070485"), parts[1].Start);
        Assert.Equal(UInt128.Parse("226854911280625642308916404954512140970"), parts[2].Start);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(500)]
    [InlineData(10_000)]
    public void Even_parts_cover_the_space_without_gap_and_differ_in_size_by_at_most_one(int count)
    {
        var parts = HashKeyRange.Even(count);
        Assert.Equal(UInt128.Zero, parts[0].Start);
        Assert.Equal(UInt128.MaxValue, parts[^1].End);
        for (var i = 1; i < count; i++)
        {
            Assert.True(parts[i - 1].IsFollowedBy(parts[i]));
        }

        var sizes = parts.Select(p => p.End - p.Start).ToList();
        Assert.True(sizes.Max() - sizes.Min() <= 1);
    }

    [Fact]
    public void A_range_ending_at_the_top_is_followed_by_nothing() =>
        Assert.False(new HashKeyRange(1u, UInt128.MaxValue).IsFollowedBy(new HashKeyRange(0u, 0u)));

    [Fact]
    public void A_range_cannot_end_before_it_starts() =>
        Assert.Throws<ArgumentException>(() => new HashKeyRange(2u, 1u));
}
