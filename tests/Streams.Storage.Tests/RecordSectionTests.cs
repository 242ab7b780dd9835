using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>
/// Record sections that pass the CRC (sealed by the test) but do not parse: each is refused with
/// an <see cref="InvalidDataException"/> that says what is wrong, before any record is handed out.
/// </summary>
public sealed class RecordSectionTests
{
    // One good record: key "a", no hash key, data [0x2A], delta 0.
    private static readonly byte[] _oneRecord = [0x01, (byte)'a', 0x00, 0x01, 0x2A, 0x00];

    public static TheoryData<byte[], int, string> MalformedSections => new()
    {
        { [0x05, (byte)'a'], 1, "the partition key (5 bytes) runs past the end of the section (1 bytes left)" },
        { [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 1, "the partition key length is not a varint of at most 5 bytes" },
        { [0x01, (byte)'a'], 1, "the section ends before the explicit-hash-key flag" },
        { [0x01, (byte)'a', 0x02, 0x00, 0x00], 1, "the explicit-hash-key flag is 2, not 0 or 1" },
        { [0x01, (byte)'a', 0x01, 1, 2, 3], 1, "the explicit hash key (16 bytes) runs past the end of the section (3 bytes left)" },
        { [0x00, 0x00, 0x09, 1, 2], 1, "the data (9 bytes) runs past the end of the section (2 bytes left)" },
        { [0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], 1, "the data (4294967295 bytes) runs past the end" },
        { [0x00, 0x00, 0x00], 1, "the arrival-time delta is not a varint of at most 10 bytes" },
        { [0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 1, "the arrival-time delta is not a varint" },
        { [0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], 1, "the arrival-time delta is not a varint" },
        { _oneRecord, 2, "it ends after 1 of its 2 records" },
        { [.. _oneRecord, .. _oneRecord], 1, "6 bytes follow the last of its 1 records" },
        { _oneRecord, 0, "6 bytes follow the last of its 0 records" },
        { [.. _oneRecord, 0x01], 1, "1 bytes follow the last of its 1 records" },
    };

    [Theory]
    [MemberData(nameof(MalformedSections))]
    public void A_malformed_record_section_is_refused_saying_what_is_wrong(byte[] section, int recordCount, string problem)
    {
        var batch = BatchSamples.Seal(section, recordCount);
        Assert.Null(BatchHeader.Validate(batch));

        using var reader = new BatchReader();
        var error = Assert.Throws<InvalidDataException>(() => reader.Open(batch));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("batch 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_hand_written_section_reads()
    {
        var batch = BatchSamples.Seal([.. _oneRecord, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03], recordCount: 2, firstTimestampMs: 10, maxTimestampMs: 10);
        var read = BatchSamples.ReadAll(batch);
        Assert.Equal(2, read.Count);
        Assert.Equal("a", read[0].Key);
        Assert.Equal((UInt128)7, read[1].HashKey);
        Assert.Equal(8, read[1].ArrivalTimestampMs); // zig-zag 3 is -2
        Assert.Empty(read[1].Data);
    }

    [Fact]
    public void A_header_whose_first_timestamp_is_not_the_first_records_is_refused()
    {
        var batch = BatchSamples.Seal([0x00, 0x00, 0x00, 0x0A], recordCount: 1, firstTimestampMs: 100, maxTimestampMs: 105);
        var error = Assert.Throws<InvalidDataException>(() => BatchRecords.Open(batch, []));
        Assert.Contains("says its first record arrived at 100; the record says 105", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_whose_max_timestamp_is_not_the_latest_records_is_refused()
    {
        var batch = BatchSamples.Seal([.. _oneRecord, 0x00, 0x00, 0x00, 0x0A], recordCount: 2, firstTimestampMs: 100, maxTimestampMs: 100);
        var error = Assert.Throws<InvalidDataException>(() => BatchRecords.Open(batch, []));
        Assert.Contains("says its latest record arrived at 100; the latest record arrived at 105", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_uncompressed_batch_whose_records_length_disagrees_is_refused()
    {
        var batch = BatchSamples.Seal(_oneRecord, recordCount: 1, recordsLength: 5);
        var error = Assert.Throws<InvalidDataException>(() => BatchRecords.Open(batch, []));
        Assert.Contains("is not compressed but says its records take 5 bytes; it holds 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_records_length_beyond_the_largest_batch_is_refused_before_any_buffer_is_sized()
    {
        var batch = BatchSamples.Seal([0x00], recordCount: 1, codec: BatchCodec.Lz4, recordsLength: int.MaxValue);
        using var reader = new BatchReader();
        var error = Assert.Throws<InvalidDataException>(() => reader.Open(batch));
        Assert.Contains($"says its records take {int.MaxValue} bytes, more than a batch holds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_control_batch_that_claims_records_is_refused()
    {
        var batch = BatchSamples.Seal([1, 2, 3], recordCount: 1, attributes: BatchAttributes.Control);
        var error = Assert.Throws<InvalidDataException>(() => BatchRecords.Open(batch, []));
        Assert.Contains("Control batch 7 says it holds 1 records", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, "is malformed or decompresses to more than")]
    [InlineData(1, "decompresses to 12 bytes; its header says 13")]
    public void An_LZ4_block_whose_length_disagrees_with_the_header_is_refused(int lengthError, string problem)
    {
        byte[] section = [.. _oneRecord, .. _oneRecord];
        var block = new byte[Lz4Library.CompressBound(section.Length)];
        var compressedLength = Lz4Library.Compress(section, block);
        var batch = BatchSamples.Seal(block.AsSpan(0, compressedLength), recordCount: 2, codec: BatchCodec.Lz4, recordsLength: section.Length + lengthError);

        using var reader = new BatchReader();
        var error = Assert.Throws<InvalidDataException>(() => reader.Open(batch));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_garbled_LZ4_block_is_refused()
    {
        // A token promising 15+ literal bytes, then nothing.
        var batch = BatchSamples.Seal([0xF0], recordCount: 1, codec: BatchCodec.Lz4, recordsLength: 100);
        var error = Assert.Throws<InvalidDataException>(() => BatchRecords.Open(batch, new byte[100]));
        Assert.Contains("LZ4 block of batch 7 is malformed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_sections_either_read_within_bounds_or_are_refused_with_InvalidDataException() =>
        Prop.ForAll(
            ArbMap.Default.ArbFor<byte[]>(),
            Gen.Choose(0, 8).ToArbitrary(),
            BatchSamples.Codecs.ToArbitrary(),
            (section, count, codec) =>
            {
                var batch = BatchSamples.Seal(section, count, codec, recordsLength: codec == BatchCodec.Lz4 ? 64 : null);
                using var reader = new BatchReader();
                try
                {
                    var total = 0;
                    foreach (var record in reader.Open(batch))
                    {
                        total += record.PartitionKey.Length + record.Data.Length;
                    }

                    Assert.True(total <= section.Length || codec == BatchCodec.Lz4);
                }
                catch (InvalidDataException)
                {
                    // Refused, as it should be: the only other outcome allowed.
                }
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Varints_and_zig_zag_round_trip_any_value_in_the_size_they_promise() =>
        Prop.ForAll(
            Gen.OneOf(ArbMap.Default.GeneratorFor<long>(), Gen.Choose(0, 62).Select(bits => 1L << bits), Gen.Choose(0, 62).Select(bits => -(1L << bits))).ToArbitrary(),
            value =>
            {
                Span<byte> buffer = stackalloc byte[Varint.MaxLength64];
                var zigZag = Varint.ZigZag(value);
                var written = Varint.Write(buffer, zigZag);
                Assert.Equal(Varint.Size(zigZag), written);
                Assert.Equal(written, Varint.TryRead(buffer[..written], Varint.MaxLength64, out var read));
                Assert.Equal(value, Varint.UnZigZag(read));
                Assert.Equal(0, Varint.TryRead(buffer[..(written - 1)], Varint.MaxLength64, out _));
            })
        .QuickCheckThrowOnFailure();
}
