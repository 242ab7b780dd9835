using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>CRC-32C as the batch header uses it.</summary>
public sealed class BatchChecksumTests
{
    [Fact]
    public void The_CRC32C_check_value_of_123456789_is_E3069283() =>
        Assert.Equal(0xE3069283u, Checksum.Crc32C("123456789"u8));

    [Fact]
    public void The_CRC32C_of_nothing_is_zero() => Assert.Equal(0u, Checksum.Crc32C([]));

    [Fact]
    public void The_CRC32C_of_32_zero_bytes_is_the_RFC_3720_vector() =>
        Assert.Equal(0x8A9136AAu, Checksum.Crc32C(new byte[32]));

    [Fact]
    public void Appending_in_any_pieces_equals_one_pass() =>
        Prop.ForAll(
            ArbMap.Default.ArbFor<byte[]>(),
            Gen.ListOf(Gen.Choose(0, 20)).ToArbitrary(),
            (data, cuts) =>
            {
                var state = 0xFFFF_FFFFu;
                var offset = 0;
                foreach (var cut in cuts)
                {
                    var length = Math.Min(cut, data.Length - offset);
                    state = Checksum.Append(state, data.AsSpan(offset, length));
                    offset += length;
                }

                state = Checksum.Append(state, data.AsSpan(offset));
                Assert.Equal(Checksum.Crc32C(data), ~state);
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void The_header_CRC_covers_every_byte_after_the_CRC_field()
    {
        var batch = BatchSamples.Build([new SampleRecord("k", null, Encoding.ASCII.GetBytes("hello"), 1000, false)], BatchCodec.None);
        Assert.Equal(Checksum.Crc32C(batch.AsSpan(8)), BatchHeader.Read(batch).Crc32C);
    }
}
