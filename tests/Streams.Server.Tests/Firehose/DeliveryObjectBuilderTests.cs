using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Firehose.Output;

namespace Streams.Server.Tests.Firehose;

public sealed class DeliveryObjectBuilderTests
{
    private static readonly DateTimeOffset _arrival = new(2026, 11, 21, 18, 53, 26, 123, TimeSpan.Zero);

    [Fact]
    public void Raw_objects_split_at_the_delimiter_give_back_exactly_the_records_that_can_be_framed() =>
        Prop.ForAll(FirehoseGenerators.Records.ToArbitrary(), FirehoseGenerators.Delimiters.ToArbitrary(), (records, delimiter) =>
        {
            using var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, delimiter, ObjectCompression.None));
            var framed = records.Where(r => builder.CanFrame(r.Data)).ToArray();
            foreach (var record in framed)
            {
                record.AppendTo(builder);
            }

            var bytes = builder.Finish().Bytes.ToArray();
            if (delimiter.Length == 0)
            {
                Assert.Equal(framed.SelectMany(r => r.Data).ToArray(), bytes);
            }
            else
            {
                var pieces = ObjectReading.SplitRaw(bytes, delimiter);
                Assert.Equal(framed.Select(r => Convert.ToHexString(r.Data)), pieces.Select(Convert.ToHexString));
            }

            Assert.Equal(framed.Length, builder.RecordCount);
            Assert.Equal(framed.Sum(r => (long)r.Data.Length), builder.DataBytes);
            Assert.Equal(framed.FirstOrDefault()?.SequenceNumber, builder.FirstSequenceNumber);
            Assert.Equal(framed.LastOrDefault()?.SequenceNumber, builder.LastSequenceNumber);
            Assert.Equal(framed.FirstOrDefault()?.Arrival, builder.FirstArrival);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Can_frame_is_false_exactly_when_the_first_delimiter_after_the_data_would_not_start_at_its_end() =>
        Prop.ForAll(FirehoseGenerators.Data.ToArbitrary(), FirehoseGenerators.Delimiters.ToArbitrary(), (data, delimiter) =>
        {
            using var raw = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, delimiter, ObjectCompression.None));
            using var json = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.JsonLines, delimiter, ObjectCompression.None));
            var framedAlone = delimiter.Length == 0 || data.Concat(delimiter).ToArray().AsSpan().IndexOf(delimiter) == data.Length;
            Assert.Equal(framedAlone, raw.CanFrame(data));
            if (delimiter.Length > 0 && data.AsSpan().IndexOf(delimiter) >= 0)
            {
                Assert.False(raw.CanFrame(data));
            }

            Assert.True(json.CanFrame(data));
        })
        .QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("a\nb", "\n", false)]
    [InlineData("ab\n", "\n", false)]
    [InlineData("ab", "\n", true)]
    [InlineData("", "\n", true)]
    [InlineData("x\n", "\n\n", false)] // "x\n" + "\n\n" splits as "x" first
    [InlineData("x\r", "\r\n", true)]
    [InlineData("xab", "aba", false)] // "xab" + "aba" = "xababa": "aba" first at 1
    [InlineData("a\nb", "", true)]
    public void Can_frame_examples(string data, string delimiter, bool expected)
    {
        using var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, Encoding.UTF8.GetBytes(delimiter), ObjectCompression.None));
        Assert.Equal(expected, builder.CanFrame(Encoding.UTF8.GetBytes(data)));
        if (!expected)
        {
            Assert.Throws<ArgumentException>(() => builder.Append("00000000000000000001000000", "k", _arrival, Encoding.UTF8.GetBytes(data)));
            Assert.Equal(0, builder.RecordCount);
        }
    }

    [Fact]
    public void Json_lines_parse_back_to_the_records() =>
        Prop.ForAll(FirehoseGenerators.Records.ToArbitrary(), records =>
        {
            var bytes = ObjectReading.Build(new ObjectFormat(RecordFormat.JsonLines, "|"u8.ToArray(), ObjectCompression.None), records);
            var lines = ObjectReading.JsonLines(bytes);
            Assert.Equal(records.Length, lines.Count);
            for (var i = 0; i < records.Length; i++)
            {
                ObjectReading.AssertLineIs(records[i], lines[i]);
                Assert.Equal(["sequence_number", "partition_key", "approximate_arrival_timestamp", "data"], lines[i].EnumerateObject().Select(p => p.Name));
            }
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_json_line_spells_the_fields_in_order_with_utc_milliseconds()
    {
        var arrival = new DateTimeOffset(2026, 11, 21, 19, 53, 26, 123, TimeSpan.FromHours(1)).AddTicks(4567);
        var bytes = ObjectReading.Build(
            new ObjectFormat(RecordFormat.JsonLines, ReadOnlyMemory<byte>.Empty, ObjectCompression.None),
            [new TestRecord("00000000000000000042000000", "user-é", arrival, "hi"u8.ToArray())]);
        Assert.Equal(
            "{\"sequence_number\":\"00000000000000000042000000\",\"partition_key\":\"user-é\",\"approximate_arrival_timestamp\":\"2026-11-21T18:53:26.123Z\",\"data\":\"aGk=\"}\n",
            Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Gzip_objects_decompress_to_the_uncompressed_object_and_are_the_same_bytes_every_time() =>
        Prop.ForAll(FirehoseGenerators.Records.ToArbitrary(), FirehoseGenerators.Formats.ToArbitrary(), (records, format) =>
        {
            var plainFormat = format with { Compression = ObjectCompression.None };
            var gzipFormat = format with { Compression = ObjectCompression.Gzip };
            using var probe = new DeliveryObjectBuilder(plainFormat);
            var framed = records.Where(r => probe.CanFrame(r.Data)).ToArray();
            var plain = ObjectReading.Build(plainFormat, framed);
            var gzip = ObjectReading.Build(gzipFormat, framed);
            Assert.Equal(plain, ObjectReading.Gunzip(gzip));
            Assert.Equal(gzip, ObjectReading.Build(gzipFormat, framed));
            Assert.Equal(plain, ObjectReading.Build(plainFormat, framed));
            Assert.Equal(0x1f, gzip[0]);
            Assert.Equal(0x8b, gzip[1]);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_reset_builder_makes_the_same_bytes_as_a_fresh_one() =>
        Prop.ForAll(FirehoseGenerators.Records.ToArbitrary(), FirehoseGenerators.Records.ToArbitrary(), FirehoseGenerators.Formats.ToArbitrary(), (first, second, format) =>
        {
            using var builder = new DeliveryObjectBuilder(format);
            var framedFirst = first.Where(r => builder.CanFrame(r.Data)).ToArray();
            var framedSecond = second.Where(r => builder.CanFrame(r.Data)).ToArray();
            foreach (var record in framedFirst)
            {
                record.AppendTo(builder);
            }

            var firstBytes = builder.Finish().Bytes.ToArray();
            builder.Reset();
            Assert.Equal(0, builder.RecordCount);
            Assert.Equal(0, builder.DataBytes);
            Assert.Null(builder.FirstSequenceNumber);
            Assert.Null(builder.LastSequenceNumber);
            Assert.Null(builder.FirstArrival);
            foreach (var record in framedSecond)
            {
                record.AppendTo(builder);
            }

            Assert.Equal(ObjectReading.Build(format, framedSecond), builder.Finish().Bytes.ToArray());
            builder.Reset();
            foreach (var record in framedFirst)
            {
                record.AppendTo(builder);
            }

            Assert.Equal(firstBytes, builder.Finish().Bytes.ToArray());
        })
        .QuickCheckThrowOnFailure();

    [Theory]
    [InlineData(RecordFormat.Raw, ObjectCompression.None)]
    [InlineData(RecordFormat.Raw, ObjectCompression.Gzip)]
    [InlineData(RecordFormat.JsonLines, ObjectCompression.None)]
    [InlineData(RecordFormat.JsonLines, ObjectCompression.Gzip)]
    public void A_large_object_spans_many_chunks_and_reads_back_whole(RecordFormat records, ObjectCompression compression)
    {
        var random = new Random(20261121);
        var input = new List<TestRecord>();
        for (var i = 0; i < 12; i++)
        {
            // Up to 1 MiB each (several chunks in all), data without the delimiter.
            var data = new byte[random.Next(0, 1024 * 1024)];
            random.NextBytes(data);
            data.AsSpan().Replace((byte)'\n', (byte)'x');
            input.Add(new TestRecord($"{i + 1:D20}000000", $"key-{i}", _arrival.AddSeconds(i), data));
        }

        var format = new ObjectFormat(records, "\n"u8.ToArray(), compression);
        using var builder = new DeliveryObjectBuilder(format);
        foreach (var record in input)
        {
            record.AppendTo(builder);
        }

        var content = builder.Finish();
        Assert.False(content.Bytes.IsSingleSegment);
        var bytes = content.Bytes.ToArray();
        Assert.Equal(content.Length, bytes.Length);
        var plain = compression == ObjectCompression.Gzip ? ObjectReading.Gunzip(bytes) : bytes;
        if (records == RecordFormat.Raw)
        {
            Assert.True(plain.AsSpan().SequenceEqual(input.SelectMany(r => r.Data.Append((byte)'\n')).ToArray()));
        }
        else
        {
            var lines = ObjectReading.JsonLines(plain);
            Assert.Equal(input.Count, lines.Count);
            for (var i = 0; i < input.Count; i++)
            {
                ObjectReading.AssertLineIs(input[i], lines[i]);
            }
        }

        Assert.Equal(input.Sum(r => (long)r.Data.Length), builder.DataBytes);
    }

    [Fact]
    public void The_error_output_carries_the_error_code_and_message()
    {
        using var builder = DeliveryObjectBuilder.ForErrors(ObjectCompression.Gzip);
        Assert.True(builder.IsErrorOutput);
        builder.AppendFailed("00000000000000000042000000", "k1", _arrival, "a\nb"u8, "DelimiterInData", "The record's data holds the delimiter \"\\n\".");
        builder.AppendFailed("00000000000000000042000001", "k2", _arrival, ReadOnlySpan<byte>.Empty, "DelimiterInData", "again");
        Assert.Throws<InvalidOperationException>(() => builder.Append("00000000000000000042000002", "k", _arrival, "x"u8));
        var lines = ObjectReading.JsonLines(ObjectReading.Gunzip(builder.Finish().Bytes.ToArray()));
        Assert.Equal(2, lines.Count);
        ObjectReading.AssertLineIs(new TestRecord("00000000000000000042000000", "k1", _arrival, "a\nb"u8.ToArray()), lines[0]);
        Assert.Equal(
            ["sequence_number", "partition_key", "approximate_arrival_timestamp", "data", "error_code", "error_message"],
            lines[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("DelimiterInData", lines[0].GetProperty("error_code").GetString());
        Assert.Equal("The record's data holds the delimiter \"\\n\".", lines[0].GetProperty("error_message").GetString());
        Assert.Equal(2, builder.RecordCount);
        Assert.Equal(3, builder.DataBytes);
        Assert.Equal("00000000000000000042000001", builder.LastSequenceNumber);
    }

    [Fact]
    public void Append_failed_needs_an_error_output_builder()
    {
        using var builder = new DeliveryObjectBuilder(ObjectFormat.Default);
        Assert.False(builder.IsErrorOutput);
        Assert.Throws<InvalidOperationException>(() => builder.AppendFailed("00000000000000000042000000", "k", _arrival, "x"u8, "E", "m"));
    }

    [Fact]
    public void After_finish_append_throws_until_reset_and_finish_again_gives_the_same_content()
    {
        using var builder = new DeliveryObjectBuilder(ObjectFormat.Default with { Compression = ObjectCompression.Gzip });
        builder.Append("00000000000000000042000000", "k", _arrival, "one"u8);
        var content = builder.Finish();
        Assert.Throws<InvalidOperationException>(() => builder.Append("00000000000000000042000001", "k", _arrival, "two"u8));
        Assert.Equal(content, builder.Finish());
        Assert.Equal("one\n"u8.ToArray(), ObjectReading.Gunzip(content.Bytes.ToArray()));
        builder.Reset();
        builder.Append("00000000000000000042000001", "k", _arrival, "two"u8);
        Assert.Equal("two\n"u8.ToArray(), ObjectReading.Gunzip(builder.Finish().Bytes.ToArray()));
    }

    [Fact]
    public void An_empty_object_is_empty_or_an_empty_gzip_member()
    {
        using var plain = new DeliveryObjectBuilder(ObjectFormat.Default);
        Assert.Equal(0, plain.Finish().Length);
        using var gzip = new DeliveryObjectBuilder(ObjectFormat.Default with { Compression = ObjectCompression.Gzip });
        Assert.Empty(ObjectReading.Gunzip(gzip.Finish().Bytes.ToArray()));
    }

    [Fact]
    public void A_partition_key_with_a_lone_surrogate_still_makes_valid_json_lines()
    {
        using var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.JsonLines, ReadOnlyMemory<byte>.Empty, ObjectCompression.None));
        builder.Append("00000000000000000042000000", "good", _arrival, "1"u8);
        builder.Append("00000000000000000042000001", "bad\ud800", _arrival, "2"u8);
        builder.Append("00000000000000000042000002", "good", _arrival, "3"u8);
        var lines = ObjectReading.JsonLines(builder.Finish().Bytes.ToArray());
        Assert.Equal(["good", "bad\ufffd", "good"], lines.Select(l => l.GetProperty("partition_key").GetString()));
        Assert.Equal(3, builder.RecordCount);
    }

    [Fact]
    public void The_format_compares_delimiters_by_their_bytes()
    {
        var a = new ObjectFormat(RecordFormat.Raw, "\r\n"u8.ToArray(), ObjectCompression.Gzip);
        var b = new ObjectFormat(RecordFormat.Raw, Encoding.ASCII.GetBytes("\r\n"), ObjectCompression.Gzip);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Delimiter = "\n"u8.ToArray() });
        Assert.Equal(new ObjectFormat(RecordFormat.Raw, "\n"u8.ToArray(), ObjectCompression.None), ObjectFormat.Default);
    }

    [Fact]
    public void The_content_is_the_objects_bytes_as_a_sequence()
    {
        using var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, ReadOnlyMemory<byte>.Empty, ObjectCompression.None));
        var data = new byte[300 * 1024];
        for (var i = 0; i < 10; i++)
        {
            data.AsSpan().Fill((byte)i);
            builder.Append($"{i + 1:D20}000000", "k", _arrival, data);
        }

        var content = builder.Finish();
        Assert.Equal(10 * data.Length, content.Length);
        var position = 0L;
        foreach (var segment in content.Bytes)
        {
            for (var j = 0; j < segment.Length; j++)
            {
                Assert.Equal((byte)((position + j) / data.Length), segment.Span[j]);
            }

            position += segment.Length;
        }

        Assert.Equal(content.Length, position);
    }
}
