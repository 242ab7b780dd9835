using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Routing;

public sealed class SequenceNumberTests
{
    private static Arbitrary<SequenceNumber> Numbers =>
        (from index in RoutingGenerators.Indexes from position in RoutingGenerators.Positions select new SequenceNumber(index, position)).ToArbitrary();

    [Fact]
    public void Parse_of_format_gives_back_the_sequence_number() =>
        Prop.ForAll(Numbers, number =>
        {
            var text = number.ToString();
            Assert.Equal(SequenceNumber.Length, text.Length);
            Assert.True(SequenceNumber.TryParse(text, out var parsed));
            Assert.Equal(number, parsed);
            Assert.Equal(number, SequenceNumber.Parse(text, "sequence_number"));
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Lexical_order_of_the_text_is_index_then_position_order() =>
        Prop.ForAll(Numbers, Numbers, (a, b) =>
        {
            var byText = Math.Sign(string.CompareOrdinal(a.ToString(), b.ToString()));
            var byParts = Math.Sign(a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Position.CompareTo(b.Position));
            Assert.Equal(byParts, byText);
            Assert.Equal(byParts, Math.Sign(a.CompareTo(b)));
            Assert.Equal(byParts < 0, a < b);
            Assert.Equal(byParts >= 0, a >= b);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Formats_as_a_20_digit_index_then_a_6_digit_position()
    {
        Assert.Equal("00000000000000000042000007", new SequenceNumber(42, 7).ToString());
        Assert.Equal("00000000000000000001000000", SequenceNumber.FirstAt(1).ToString());
        Assert.Equal("09223372036854775807999999", new SequenceNumber(long.MaxValue, SequenceNumber.MaxPosition).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000004200000")]
    [InlineData("000000000000000000420000070")]
    [InlineData("0000000000000000004200000x")]
    [InlineData("-0000000000000000042000007")]
    [InlineData("99999999999999999999000000")]
    [InlineData("09223372036854775808000000")]
    public void Refuses_malformed_text_with_a_message_naming_the_field(string text)
    {
        Assert.False(SequenceNumber.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => SequenceNumber.Parse(text, "starting_sequence_number"));
        Assert.StartsWith("starting_sequence_number must be a sequence number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_position_beyond_a_batch_and_a_negative_index()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceNumber(1, 1_000_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceNumber(-1, 0));
    }
}
