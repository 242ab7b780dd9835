using Streams.Storage.Batches;
using Xunit.Abstractions;

namespace Streams.Storage.Tests;

/// <summary>The builder's contract: no allocation per record, and clear refusals of misuse.</summary>
public sealed class BatchBuilderTests(ITestOutputHelper output)
{
    private const int Records = 10_000;

    [Theory]
    [InlineData(BatchCodec.None, false)]
    [InlineData(BatchCodec.None, true)]
    [InlineData(BatchCodec.Lz4, false)]
    [InlineData(BatchCodec.Lz4, true)]
    public void Adding_records_to_a_warmed_builder_allocates_nothing(BatchCodec codec, bool keyAsChars)
    {
        var data = BatchSamples.MakeData(100, 2, 1);
        using var builder = new BatchBuilder();
        Fill(builder, codec, data, keyAsChars); // warm-up: buffers grow, code is jitted
        Fill(builder, codec, data, keyAsChars);

        var before = GC.GetAllocatedBytesForCurrentThread();
        builder.Reset(1, 2, codec);
        AddRecords(builder, data, keyAsChars);
        var afterAdds = GC.GetAllocatedBytesForCurrentThread();
        var batch = builder.Build();
        var afterBuild = GC.GetAllocatedBytesForCurrentThread();

        output.WriteLine($"{codec}, key as {(keyAsChars ? "chars" : "UTF-8")}: {afterAdds - before} bytes allocated over {Records} adds "
            + $"({(afterAdds - before) / (double)Records} per record), {afterBuild - afterAdds} by Build; batch {batch.Length} bytes");
        Assert.Equal(0, afterAdds - before);
        Assert.Equal(0, afterBuild - afterAdds);
        Assert.Equal(Records, BatchHeader.Read(batch.Span).RecordCount);
    }

    [Theory]
    [InlineData(BatchCodec.None)]
    [InlineData(BatchCodec.Lz4)]
    public void Reading_a_batch_with_a_warmed_reader_allocates_nothing(BatchCodec codec)
    {
        using var builder = new BatchBuilder();
        Fill(builder, codec, BatchSamples.MakeData(100, 2, 1), keyAsChars: false);
        var batch = builder.Build();
        using var reader = new BatchReader();
        var expected = ReadAll(reader, batch.Span); // warm-up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = ReadAll(reader, batch.Span);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        output.WriteLine($"{codec}: {allocated} bytes allocated reading {Records} records");
        Assert.Equal(0, allocated);
        Assert.Equal(expected, read);
        Assert.Equal(Records * 100L, read);
    }

    [Fact]
    public void Adding_before_Reset_or_after_Build_is_refused()
    {
        using var builder = new BatchBuilder();
        Assert.Contains("Call Reset before adding", Assert.Throws<InvalidOperationException>(() => builder.Add("k"u8, null, [], 0)).Message, StringComparison.Ordinal);
        Assert.Contains("Call Reset before building", Assert.Throws<InvalidOperationException>(() => builder.Build()).Message, StringComparison.Ordinal);

        builder.Reset(1, 1, BatchCodec.None);
        builder.Add("k"u8, null, [1], 0);
        var built = builder.Build();
        Assert.Equal(built, builder.Build()); // idempotent
        Assert.Contains("The batch is built", Assert.Throws<InvalidOperationException>(() => builder.Add("k"u8, null, [], 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_of_records_needs_a_record()
    {
        using var builder = new BatchBuilder();
        builder.Reset(1, 1, BatchCodec.None);
        Assert.Contains("at least one record", Assert.Throws<InvalidOperationException>(() => builder.Build()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_and_control_payloads_do_not_mix()
    {
        using var builder = new BatchBuilder();
        builder.Reset(1, 1, BatchCodec.None);
        Assert.Contains("Reset with BatchAttributes.Control", Assert.Throws<InvalidOperationException>(() => builder.AddControlPayload([1])).Message, StringComparison.Ordinal);

        builder.Reset(1, 1, BatchCodec.None, attributes: BatchAttributes.Control);
        Assert.Contains("use AddControlPayload", Assert.Throws<InvalidOperationException>(() => builder.Add("k"u8, null, [], 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reset_refuses_unknown_codecs_attributes_and_negative_positions()
    {
        using var builder = new BatchBuilder();
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Reset(1, 1, (BatchCodec)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Reset(1, 1, BatchCodec.None, attributes: (BatchAttributes)2));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Reset(-1, 1, BatchCodec.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Reset(1, -1, BatchCodec.None));
    }

    [Fact]
    public void A_partition_key_with_a_lone_surrogate_is_refused_and_the_batch_is_unchanged()
    {
        using var builder = new BatchBuilder();
        builder.Reset(1, 1, BatchCodec.None);
        builder.Add("ok".AsSpan(), null, [1], 5);
        var error = Assert.Throws<ArgumentException>(() => builder.Add("bad\uD800".AsSpan(), null, [2], 6));
        Assert.Contains("lone surrogate", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, builder.RecordCount);

        var read = BatchSamples.ReadAll(builder.Build().Span);
        Assert.Equal("ok", Assert.Single(read).Key);
    }

    [Fact]
    public void A_record_that_would_pass_the_largest_batch_is_refused_and_the_batch_is_unchanged()
    {
        using var builder = new BatchBuilder();
        builder.Reset(1, 1, BatchCodec.None);
        builder.Add("k"u8, null, new byte[1000], 5);
        var length = builder.RecordsLength;
        var error = Assert.Throws<InvalidOperationException>(() => builder.Add("k"u8, null, new byte[BatchHeader.MaxLength - 1000], 6));
        Assert.Contains("past the largest batch", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, length), (builder.RecordCount, builder.RecordsLength));
        Assert.Single(BatchSamples.ReadAll(builder.Build().Span));
    }

    [Fact]
    public void A_disposed_builder_is_refused()
    {
        var builder = new BatchBuilder();
        builder.Dispose();
        builder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => builder.Reset(1, 1, BatchCodec.None));
    }

    [Fact]
    public void MeasureRecord_agrees_with_what_the_builder_writes()
    {
        using var builder = new BatchBuilder();
        builder.Reset(1, 1, BatchCodec.None);
        builder.Add("partition"u8, UInt128.One, new byte[300], 1_000);
        builder.Add("p"u8, null, new byte[3], 1_000 - 100_000);
        Assert.Equal(
            RecordSection.MeasureRecord(9, true, 300, 0) + RecordSection.MeasureRecord(1, false, 3, -100_000),
            builder.RecordsLength);
        Assert.Equal(1 + 9 + 1 + 16 + 2 + 300 + 1, RecordSection.MeasureRecord(9, true, 300, 0));
    }

    private static void Fill(BatchBuilder builder, BatchCodec codec, byte[] data, bool keyAsChars)
    {
        builder.Reset(1, 2, codec);
        AddRecords(builder, data, keyAsChars);
        _ = builder.Build();
    }

    private static void AddRecords(BatchBuilder builder, byte[] data, bool keyAsChars)
    {
        const string key = "sensor-42/région";
        ReadOnlySpan<byte> keyUtf8 = "sensor-42/région"u8;
        for (var i = 0; i < Records; i++)
        {
            UInt128? hash = i % 3 == 0 ? (UInt128)i : null;
            if (keyAsChars)
            {
                builder.Add(key.AsSpan(), hash, data, 1_700_000_000_000 + i);
            }
            else
            {
                builder.Add(keyUtf8, hash, data, 1_700_000_000_000 + i);
            }
        }
    }

    private static long ReadAll(BatchReader reader, ReadOnlySpan<byte> batch)
    {
        long total = 0;
        foreach (var record in reader.Open(batch))
        {
            total += record.Data.Length;
        }

        return total;
    }
}
