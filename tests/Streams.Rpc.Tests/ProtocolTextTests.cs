using FsCheck;
using FsCheck.Fluent;
using Streams.Rpc.Framing;

namespace Streams.Rpc.Tests;

/// <summary>grpc-timeout, grpc-message and metadata keys and values as the spec writes them.</summary>
public sealed class ProtocolTextTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("7u", 70L)]
    [InlineData("500n", 5L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    public void A_grpc_timeout_with_each_unit_parses(string text, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("123456789S")] // nine digits: the spec allows eight
    [InlineData("-1S")]
    [InlineData("1.5S")]
    [InlineData("10s")]        // seconds are upper-case S
    [InlineData("10 S")]
    public void A_malformed_grpc_timeout_is_rejected(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Fact]
    public void A_formatted_timeout_parses_back_to_at_least_the_original_and_fits_eight_digits() =>
        Prop.ForAll(Gen.Choose(1, int.MaxValue).Select(ms => TimeSpan.FromMilliseconds(ms) + TimeSpan.FromTicks(ms % 10_000)).ToArbitrary(), timeout =>
        {
            var text = GrpcTimeout.Format(timeout);
            return text.Length <= 9 && GrpcTimeout.TryParse(text, out var parsed) && parsed >= timeout && parsed - timeout < TimeSpan.FromMinutes(1) + TimeSpan.FromTicks(timeout.Ticks / 1000);
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Any_status_message_survives_percent_encoding_as_printable_ascii() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(s => s is not null && IsWellFormedUtf16(s)), message =>
        {
            var encoded = GrpcMessageText.Encode(message);
            return encoded.All(c => c is >= ' ' and <= '~') && GrpcMessageText.Decode(encoded) == message;
        }).QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("é", "%C3%A9")]
    [InlineData("line\nbreak", "line%0Abreak")]
    public void Status_messages_encode_as_the_spec_shows(string message, string wire) => Assert.Equal(wire, GrpcMessageText.Encode(message));

    [Theory]
    [InlineData("bad %zz escape", "bad %zz escape")] // a malformed escape is kept, not dropped
    [InlineData("trailing %4", "trailing %4")]
    [InlineData("space%20encoded", "space encoded")] // grpc-js encodes spaces too
    public void Decoding_is_lenient(string wire, string message) => Assert.Equal(message, GrpcMessageText.Decode(wire));

    [Theory]
    [InlineData("Upper-Case", "upper-case")]
    [InlineData("with.dot_and-dash", "with.dot_and-dash")]
    public void Metadata_keys_are_lower_cased(string key, string stored) => Assert.Equal(stored, new Metadata().Add(key, "v")[0].Key);

    [Theory]
    [InlineData("grpc-status", "reserves")]
    [InlineData("has space", "may contain only")]
    [InlineData("x-bin", "must be bytes")]
    public void Invalid_metadata_keys_are_refused_with_the_reason(string key, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "v"));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_metadata_goes_out_as_unpadded_base64_and_comes_back_with_or_without_padding()
    {
        var entry = new Metadata.Entry("x-bin", [0x0A, 0x0B]);
        Assert.Equal("Cgs", MetadataHeaders.ToHeaderValue(entry));

        var received = new Metadata();
        MetadataHeaders.AddReceived(received, "X-Bin", new Microsoft.Extensions.Primitives.StringValues(["Cgs", "Cgs="]));
        Assert.All(received, e => Assert.Equal(new byte[] { 0x0A, 0x0B }, e.ValueBytes));
        Assert.Equal(2, received.Count);
    }

    [Fact]
    public void Reserved_headers_never_become_metadata()
    {
        var received = new Metadata();
        foreach (var name in new[] { ":path", "content-type", "te", "grpc-timeout", "user-agent" })
        {
            MetadataHeaders.AddReceived(received, name, "x");
        }

        Assert.Empty(received);
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
