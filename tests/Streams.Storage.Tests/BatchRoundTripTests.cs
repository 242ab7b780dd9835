using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>Properties of whole batches: what is built reads back exactly, and damage never reads.</summary>
public sealed class BatchRoundTripTests
{
    private static Arbitrary<List<SampleRecord>> RecordLists =>
        Gen.NonEmptyListOf(BatchSamples.Records).Select(r => r.ToList()).ToArbitrary();

    [Fact]
    public void Any_records_built_with_either_codec_validate_and_read_back_exactly() =>
        Prop.ForAll(RecordLists, BatchSamples.Codecs.ToArbitrary(), (records, codec) =>
        {
            var batch = BatchSamples.Build(records, codec, term: 7, index: 1234);

            Assert.Null(BatchHeader.Validate(batch));
            var header = BatchHeader.Read(batch);
            Assert.Equal(batch.Length, header.Length);
            Assert.Equal(BatchHeader.CurrentFormatVersion, header.FormatVersion);
            Assert.Equal(BatchAttributes.None, header.Attributes);
            Assert.Equal(records.Count, header.RecordCount);
            Assert.Equal(7, header.Term);
            Assert.Equal(1234, header.Index);
            Assert.Equal((9L, 2, 100), (header.ProducerId, header.ProducerEpoch, header.ProducerSequence));
            Assert.Equal(records[0].ArrivalTimestampMs, header.FirstTimestampMs);
            Assert.Equal(records.Max(r => r.ArrivalTimestampMs), header.MaxTimestampMs);
            Assert.Equal(
                records.Sum(r => RecordSection.MeasureRecord(Encoding.UTF8.GetByteCount(r.Key), r.HashKey.HasValue, r.Data.Length, unchecked(r.ArrivalTimestampMs - records[0].ArrivalTimestampMs))),
                header.RecordsLength);
            if (codec == BatchCodec.None || header.Codec == BatchCodec.None)
            {
                Assert.Equal(BatchHeader.Size + header.RecordsLength, header.Length);
            }
            else
            {
                Assert.True(header.Length < BatchHeader.Size + header.RecordsLength, "an LZ4 batch is smaller than its records");
            }

            AssertSameRecords(records, BatchSamples.ReadAll(batch));
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_reused_builder_writes_the_same_bytes_as_a_fresh_one() =>
        Prop.ForAll(RecordLists, RecordLists, BatchSamples.Codecs.ToArbitrary(), (first, second, codec) =>
        {
            using var builder = new BatchBuilder(initialCapacityBytes: 100);
            byte[] BuildWith(List<SampleRecord> records)
            {
                builder.Reset(3, 42, codec, producerId: 9, producerEpoch: 2, producerSequence: 100);
                records.ForEach(r => BatchSamples.Add(builder, r));
                return builder.Build().ToArray();
            }

            _ = BuildWith(first);
            Assert.Equal(BatchSamples.Build(second, codec), BuildWith(second));
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Flipping_any_single_bit_of_a_batch_fails_validation_and_is_never_read() =>
        Prop.ForAll(
            Gen.NonEmptyListOf(BatchSamples.Records).Resize(8).Select(r => r.ToList()).ToArbitrary(),
            BatchSamples.Codecs.ToArbitrary(),
            Gen.Choose(0, int.MaxValue).ToArbitrary(),
            (records, codec, where) =>
            {
                var batch = BatchSamples.Build(records, codec);
                var bit = where % (batch.Length * 8);
                batch[bit / 8] ^= (byte)(1 << (bit % 8));

                Assert.NotNull(BatchHeader.Validate(batch));
                using var reader = new BatchReader();
                Assert.Throws<InvalidDataException>(() => reader.Open(batch));
            })
        .QuickCheckThrowOnFailure();

    [Theory]
    [InlineData(BatchCodec.None)]
    [InlineData(BatchCodec.Lz4)]
    public void Every_single_bit_flip_of_one_batch_fails_validation(BatchCodec codec)
    {
        var records = new List<SampleRecord>
        {
            new("user-1", null, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"n\":1}", 20))), 1_700_000_000_000, false),
            new("ключ", UInt128.MaxValue / 3, [1, 2, 3], 1_700_000_000_005, true),
        };
        var batch = BatchSamples.Build(records, codec);
        Assert.Equal(codec, BatchHeader.Read(batch).Codec);
        for (var bit = 0; bit < batch.Length * 8; bit++)
        {
            var damaged = (byte[])batch.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.True(BatchHeader.Validate(damaged) is not null, $"flipping bit {bit} went unnoticed");
        }
    }

    [Theory]
    [InlineData(BatchCodec.None)]
    [InlineData(BatchCodec.Lz4)]
    public void A_truncated_or_extended_batch_fails_validation_and_is_never_read(BatchCodec codec)
    {
        var records = Enumerable.Range(0, 5).Select(i => new SampleRecord($"key-{i}", null, BatchSamples.MakeData(300, 2, i), 1000 + i, false)).ToList();
        var batch = BatchSamples.Build(records, codec);
        using var reader = new BatchReader();
        for (var length = 0; length < batch.Length; length++)
        {
            var torn = batch.AsSpan(0, length).ToArray();
            Assert.NotNull(BatchHeader.Validate(torn));
            Assert.Throws<InvalidDataException>(() => reader.Open(torn));
        }

        var extended = batch.Concat(new byte[1]).ToArray();
        Assert.Contains($"the header says {batch.Length} bytes, the batch has {batch.Length + 1}", BatchHeader.Validate(extended), StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => reader.Open(extended));
    }

    [Theory]
    [InlineData(BatchCodec.None)]
    [InlineData(BatchCodec.Lz4)]
    public void A_control_batch_round_trips_its_payload(BatchCodec codec)
    {
        var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("membership: add node 4 as learner; ", 30)));
        using var builder = new BatchBuilder();
        builder.Reset(term: 5, index: 77, codec, attributes: BatchAttributes.Control);
        builder.AddControlPayload(payload.AsSpan(0, 100));
        builder.AddControlPayload(payload.AsSpan(100));
        var batch = builder.Build().ToArray();

        Assert.Null(BatchHeader.Validate(batch));
        var header = BatchHeader.Read(batch);
        Assert.Equal(BatchAttributes.Control, header.Attributes);
        Assert.Equal(codec, header.Codec);
        Assert.Equal((0, 0L, 0L), (header.RecordCount, header.FirstTimestampMs, header.MaxTimestampMs));
        Assert.Equal(payload.Length, header.RecordsLength);

        using var reader = new BatchReader();
        var opened = reader.Open(batch);
        Assert.True(opened.IsControl);
        Assert.Equal(0, opened.Count);
        Assert.Equal(payload, opened.ControlPayload.ToArray());
        foreach (var record in opened)
        {
            Assert.Fail($"a control batch has no records, yet one came back at {record.Position}");
        }
    }

    [Fact]
    public void An_empty_control_batch_is_a_valid_no_op_entry()
    {
        using var builder = new BatchBuilder();
        builder.Reset(term: 5, index: 1, BatchCodec.Lz4, attributes: BatchAttributes.Control);
        var batch = builder.Build().ToArray();

        Assert.Equal(BatchHeader.Size, batch.Length);
        Assert.Equal(BatchCodec.None, BatchHeader.Read(batch).Codec);
        var opened = BatchRecords.Open(batch, []);
        Assert.True(opened.IsControl);
        Assert.True(opened.ControlPayload.IsEmpty);
    }

    [Fact]
    public void A_batch_of_records_has_no_control_payload()
    {
        var batch = BatchSamples.Build([new SampleRecord("k", null, [1], 5, false)], BatchCodec.None);
        using var reader = new BatchReader();
        var opened = reader.Open(batch);
        Assert.False(opened.IsControl);
        var error = Assert.Throws<InvalidOperationException>(() => BatchRecords.Open(batch, []).ControlPayload.Length);
        Assert.Contains("holds records", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Incompressible_records_fall_back_to_codec_None_and_compressible_ones_shrink()
    {
        var random = BatchSamples.Build([new SampleRecord("k", null, BatchSamples.MakeData(4096, 0, 1), 1, false)], BatchCodec.Lz4);
        var header = BatchHeader.Read(random);
        Assert.Equal(BatchCodec.None, header.Codec);
        Assert.Equal(BatchHeader.Size + header.RecordsLength, header.Length);
        Assert.Equal(BatchSamples.MakeData(4096, 0, 1), BatchSamples.ReadAll(random)[0].Data);

        var text = BatchSamples.Build([new SampleRecord("k", null, BatchSamples.MakeData(4096, 2, 1), 1, false)], BatchCodec.Lz4);
        header = BatchHeader.Read(text);
        Assert.Equal(BatchCodec.Lz4, header.Codec);
        Assert.True(header.Length < (BatchHeader.Size + header.RecordsLength) / 4, $"4 KiB of repeated JSON took {header.Length} bytes");
        Assert.Equal(BatchSamples.MakeData(4096, 2, 1), BatchSamples.ReadAll(text)[0].Data);
    }

    [Fact]
    public void Open_with_a_caller_buffer_needs_the_records_length_for_LZ4()
    {
        var batch = BatchSamples.Build([new SampleRecord("k", null, new byte[1000], 1, false)], BatchCodec.Lz4);
        var header = BatchHeader.Read(batch);
        Assert.Equal(BatchCodec.Lz4, header.Codec);

        var error = Assert.Throws<ArgumentException>(() => BatchRecords.Open(batch, new byte[header.RecordsLength - 1]).Count);
        Assert.Contains($"decompresses to {header.RecordsLength} bytes", error.Message, StringComparison.Ordinal);

        var buffer = new byte[header.RecordsLength];
        var count = 0;
        foreach (var record in BatchRecords.Open(batch, buffer))
        {
            Assert.Equal(1000, record.Data.Length);
            count++;
        }

        Assert.Equal(1, count);
    }

    private static void AssertSameRecords(List<SampleRecord> expected, List<SampleRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Key, actual[i].Key);
            Assert.Equal(expected[i].HashKey, actual[i].HashKey);
            Assert.Equal(expected[i].Data, actual[i].Data);
            Assert.Equal(expected[i].ArrivalTimestampMs, actual[i].ArrivalTimestampMs);
        }
    }
}
