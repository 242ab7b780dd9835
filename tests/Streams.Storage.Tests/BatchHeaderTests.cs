using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>The 72-byte header: its layout, spelled out, and its round trip.</summary>
public sealed class BatchHeaderTests
{
    [Fact]
    public void Any_header_written_then_read_comes_back_equal() =>
        Prop.ForAll(
            (from ints in ArbMap.Default.GeneratorFor<int>().ArrayOf(6)
             from longs in ArbMap.Default.GeneratorFor<long>().ArrayOf(5)
             from crc in ArbMap.Default.GeneratorFor<uint>()
             from codec in BatchSamples.Codecs
             from control in ArbMap.Default.GeneratorFor<bool>()
             select new BatchHeader
             {
                 Length = ints[0],
                 Crc32C = crc,
                 FormatVersion = BatchHeader.CurrentFormatVersion,
                 Codec = codec,
                 Attributes = control ? BatchAttributes.Control : BatchAttributes.None,
                 RecordCount = ints[1],
                 Term = longs[0],
                 Index = longs[1],
                 FirstTimestampMs = longs[2],
                 MaxTimestampMs = longs[3],
                 ProducerId = longs[4],
                 ProducerEpoch = ints[2],
                 ProducerSequence = ints[3],
                 RecordsLength = ints[4],
             }).ToArbitrary(),
            header =>
            {
                var bytes = new byte[BatchHeader.Size];
                bytes.AsSpan().Fill(0xAB);
                header.Write(bytes);
                Assert.Equal(header, BatchHeader.Read(bytes));
                Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(68)));
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_one_record_batch_byte_by_byte()
    {
        using var builder = new BatchBuilder();
        builder.Reset(term: 2, index: 5, BatchCodec.None, producerId: 0x0102, producerEpoch: 3, producerSequence: 4);
        builder.Add("k"u8, null, "hi"u8, arrivalTimestampMs: 1000);
        var batch = builder.Build().ToArray();

        byte[] expected =
        [
            0x4F, 0x00, 0x00, 0x00,                         // Length 79: 72 + 7
            0x00, 0x00, 0x00, 0x00,                         // Crc32C (checked below)
            0x01,                                           // FormatVersion 1
            0x00,                                           // Codec None
            0x00, 0x00,                                     // Attributes None
            0x01, 0x00, 0x00, 0x00,                         // RecordCount 1
            0x02, 0, 0, 0, 0, 0, 0, 0,                      // Term 2
            0x05, 0, 0, 0, 0, 0, 0, 0,                      // Index 5
            0xE8, 0x03, 0, 0, 0, 0, 0, 0,                   // FirstTimestampMs 1000
            0xE8, 0x03, 0, 0, 0, 0, 0, 0,                   // MaxTimestampMs 1000
            0x02, 0x01, 0, 0, 0, 0, 0, 0,                   // ProducerId 0x0102
            0x03, 0x00, 0x00, 0x00,                         // ProducerEpoch 3
            0x04, 0x00, 0x00, 0x00,                         // ProducerSequence 4
            0x07, 0x00, 0x00, 0x00,                         // RecordsLength 7
            0x00, 0x00, 0x00, 0x00,                         // Reserved
            0x01, (byte)'k',                                // key length 1, key "k"
            0x00,                                           // no explicit hash key
            0x02, (byte)'h', (byte)'i',                     // data length 2, data "hi"
            0x00,                                           // arrival delta 0 (zig-zag)
        ];
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(4), Checksum.Crc32C(expected.AsSpan(8)));
        Assert.Equal(expected, batch);
    }

    [Fact]
    public void A_record_section_spelled_out_with_a_hash_key_and_a_negative_delta()
    {
        using var builder = new BatchBuilder();
        builder.Reset(term: 1, index: 1, BatchCodec.None);
        builder.Add("ab"u8, null, [], arrivalTimestampMs: 500);
        builder.Add("é".AsSpan(), (UInt128.One << 120) | 0x11, [0xFF], arrivalTimestampMs: 499);
        builder.Add(ReadOnlySpan<byte>.Empty, null, new byte[200], arrivalTimestampMs: 564);
        var batch = builder.Build().ToArray();

        var expected = new List<byte>
        {
            0x02, (byte)'a', (byte)'b',                     // key "ab"
            0x00,                                           // no hash key
            0x00,                                           // no data
            0x00,                                           // delta 0
            0x02, 0xC3, 0xA9,                               // key "é" in UTF-8
            0x01,                                           // a hash key follows
            0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // UInt128 little-endian
            0x01, 0xFF,                                     // data [0xFF]
            0x01,                                           // delta -1 → zig-zag 1
            0x00,                                           // empty key
            0x00,                                           // no hash key
            0xC8, 0x01,                                     // data length 200 as a two-byte varint
        };
        expected.AddRange(new byte[200]);
        expected.AddRange([0x80, 0x01]);                    // delta +64 → zig-zag 128, two bytes

        Assert.Equal(expected.ToArray(), batch.AsSpan(BatchHeader.Size).ToArray());
        var header = BatchHeader.Read(batch);
        Assert.Equal(3, header.RecordCount);
        Assert.Equal(500, header.FirstTimestampMs);
        Assert.Equal(564, header.MaxTimestampMs);
        Assert.Equal(expected.Count, header.RecordsLength);
    }

    [Fact]
    public void Validate_names_a_batch_that_is_too_short_for_a_header() =>
        Assert.Contains("at least 72 bytes", BatchHeader.Validate(new byte[10]), StringComparison.Ordinal);
}
