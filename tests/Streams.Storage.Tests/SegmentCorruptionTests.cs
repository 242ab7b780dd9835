using System.Buffers;
using System.Buffers.Binary;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>
/// Damage on disk: flipped bytes and truncated files, in logs and in indexes. Recovery cuts a torn
/// tail, rebuilds indexes it cannot trust, and reports any other damage with file and position;
/// a reader is never handed a corrupt batch.
/// </summary>
public sealed class SegmentCorruptionTests
{
    // 400-byte payloads: 472-byte batches, 8 to a 4 KiB segment.
    private const int PayloadBytes = 400;
    private const int BatchBytes = BatchHeader.Size + PayloadBytes;
    private const int BatchesPerSegment = 8;

    [Fact]
    public async Task A_flipped_byte_in_a_closed_segment_fails_the_open_naming_file_and_position_when_every_segment_is_verified()
    {
        using var directory = new SegmentTestDirectory();
        await WriteLogAsync(directory, 40);
        var file = directory.LogFiles()[1];
        FlipByte(file, (3 * BatchBytes) + 100);

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory, verifyAll: true)));
        Assert.Equal(file, error.FilePath);
        Assert.Equal(3 * BatchBytes, error.Position);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.Contains($"position {3 * BatchBytes}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_closed_segment_whose_index_is_rebuilt_fails_the_open()
    {
        using var directory = new SegmentTestDirectory();
        await WriteLogAsync(directory, 40);
        var file = directory.LogFiles()[2];
        FlipByte(file, BatchBytes + 5);
        File.Delete(Path.ChangeExtension(file, ".index"));

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Equal(file, error.FilePath);
        Assert.Equal(BatchBytes, error.Position);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_closed_segment_is_never_handed_to_a_reader()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 40);
        await using var log = await SegmentLog.OpenAsync(Options(directory));

        // Damage after the open, behind the log's back: the index still points at the batch.
        var file = directory.LogFiles()[1];
        FlipByte(file, (2 * BatchBytes) + 300);
        var damagedIndex = BatchesPerSegment + 3;

        var buffer = new ArrayBufferWriter<byte>();
        var error = Assert.Throws<StorageCorruptionException>(() => log.Read(BatchesPerSegment + 1, long.MaxValue, buffer));
        Assert.Equal(file, error.FilePath);
        Assert.Equal(2 * BatchBytes, error.Position);
        Assert.Throws<StorageCorruptionException>(() => log.Read(damagedIndex, 0, new ArrayBufferWriter<byte>()));

        // Batches before and after it are still served, intact.
        AssertReads(log, batches, damagedIndex - 1);
        AssertReads(log, batches, damagedIndex + 1);
    }

    [Fact]
    public async Task A_flipped_length_of_a_batch_that_reads_skip_is_reported_not_followed()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 16, indexIntervalBytes: 4096);
        await using var log = await SegmentLog.OpenAsync(Options(directory, indexIntervalBytes: 4096));
        var file = directory.LogFiles()[0];
        FlipByte(file, BatchBytes + 1);

        // Reading batch 4 walks the headers of batches 1 to 3 from the segment's start.
        var error = Assert.Throws<StorageCorruptionException>(() => log.Read(4, 0, new ArrayBufferWriter<byte>()));
        Assert.Equal(file, error.FilePath);
        Assert.Equal(BatchBytes, error.Position);
        AssertReads(log, batches, 1);
    }

    [Fact]
    public async Task A_torn_tail_is_cut_at_the_last_whole_batch_and_logged()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 20);
        var last = directory.LogFiles()[^1];
        var whole = new FileInfo(last).Length;
        SetLength(last, whole - 200);
        var logger = new SegmentTestLogger();

        await using (var log = await SegmentLog.OpenAsync(Options(directory), logger: logger))
        {
            Assert.Equal(19, log.LastIndex);
            Assert.Equal(whole - BatchBytes, new FileInfo(last).Length);
            var warning = Assert.Single(logger.Messages(2001));
            Assert.Contains($"cut {BatchBytes - 200} byte(s)", warning, StringComparison.Ordinal);
            Assert.Contains(last, warning, StringComparison.Ordinal);
            AssertWholeLog(log, batches[..19]);

            // The log goes on from there.
            log.Append(batches[19]);
        }

        await using var reopened = await SegmentLog.OpenAsync(Options(directory));
        Assert.Equal(20, reopened.LastIndex);
        AssertWholeLog(reopened, batches);
    }

    [Fact]
    public async Task A_tail_torn_inside_a_header_is_cut()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 9);
        var last = directory.LogFiles()[^1];
        SetLength(last, new FileInfo(last).Length - BatchBytes + 30);

        await using var log = await SegmentLog.OpenAsync(Options(directory));
        Assert.Equal(8, log.LastIndex);
        Assert.Equal(0, new FileInfo(last).Length);
        Assert.Equal(9, log.Segments[^1].BaseIndex);
        Assert.Equal(8, log.Segments[^1].LastIndex);
        AssertWholeLog(log, batches[..8]);
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("random")]
    [InlineData("half a batch")]
    public async Task Garbage_after_the_last_batch_is_cut(string garbage)
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 12);
        var last = directory.LogFiles()[^1];
        var whole = new FileInfo(last).Length;
        var bytes = garbage switch
        {
            "zeros" => new byte[3000],
            "random" => RandomBytes(5000, seed: 7),
            _ => SegmentTestBatches.Create(13, payloadBytes: PayloadBytes)[..250],
        };
        using (var stream = new FileStream(last, FileMode.Append))
        {
            stream.Write(bytes);
        }

        await using var log = await SegmentLog.OpenAsync(Options(directory));
        Assert.Equal(12, log.LastIndex);
        Assert.Equal(whole, new FileInfo(last).Length);
        AssertWholeLog(log, batches);
    }

    [Fact]
    public async Task Damage_in_the_middle_of_the_last_segment_followed_by_valid_batches_fails_the_open()
    {
        using var directory = new SegmentTestDirectory();
        await WriteLogAsync(directory, 14);
        var last = directory.LogFiles()[^1];
        FlipByte(last, BatchBytes + 77);

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Equal(last, error.FilePath);
        Assert.Equal(BatchBytes, error.Position);
        Assert.Contains("valid batch follows", error.Message, StringComparison.Ordinal);
        Assert.Equal(6 * BatchBytes, new FileInfo(last).Length);
    }

    [Fact]
    public async Task A_whole_batch_with_the_wrong_index_at_the_end_is_an_error_not_a_torn_tail()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 10);
        using (var stream = new FileStream(directory.LogFiles()[^1], FileMode.Append))
        {
            stream.Write(batches[^1]);
        }

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Equal(2 * BatchBytes, error.Position);
        Assert.Contains("index 10 where index 11 belongs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_segment_between_two_others_is_a_gap_error()
    {
        using var directory = new SegmentTestDirectory();
        await WriteLogAsync(directory, 40);
        var files = directory.LogFiles();
        File.Delete(files[2]);

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Equal(files[1], error.FilePath);
        Assert.Contains("gap", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".index", "deleted")]
    [InlineData(".timeindex", "deleted")]
    [InlineData(".index", "truncated")]
    [InlineData(".timeindex", "truncated")]
    [InlineData(".index", "random")]
    [InlineData(".timeindex", "random")]
    [InlineData(".index", "flipped")]
    [InlineData(".index", "reordered")]
    [InlineData(".timeindex", "reordered")]
    [InlineData(".index", "other segment's")]
    [InlineData(".index", "beyond the log")]
    public async Task Damaged_index_files_are_rebuilt_and_reads_stay_correct(string extension, string damage)
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 60, payloadBytes: 120);
        var segment = directory.LogFiles()[1];
        var index = Path.ChangeExtension(segment, extension);
        var original = File.ReadAllBytes(index);
        var entrySize = extension == ".index" ? 8 : 12;
        Assert.True(original.Length >= 24 + (2 * entrySize), $"{index} has {original.Length} bytes: too few entries for the test.");
        switch (damage)
        {
            case "deleted":
                File.Delete(index);
                break;
            case "truncated":
                File.WriteAllBytes(index, original[..(original.Length - entrySize)]);
                break;
            case "random":
                File.WriteAllBytes(index, RandomBytes(original.Length, seed: 3));
                break;
            case "flipped":
                FlipByte(index, 24 + 4);
                break;
            case "reordered":
                var swapped = original.ToArray();
                original.AsSpan(24, entrySize).CopyTo(swapped.AsSpan(24 + entrySize));
                original.AsSpan(24 + entrySize, entrySize).CopyTo(swapped.AsSpan(24));
                WriteWithValidCrc(index, swapped);
                break;
            case "other segment's":
                File.Copy(Path.ChangeExtension(directory.LogFiles()[0], extension), index, overwrite: true);
                break;
            default:
                var beyond = original.ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(beyond.AsSpan(beyond.Length - 4), 1_000_000);
                WriteWithValidCrc(index, beyond);
                break;
        }

        var logger = new SegmentTestLogger();
        await using (var log = await SegmentLog.OpenAsync(Options(directory), logger: logger))
        {
            var warning = Assert.Single(logger.Messages(2002));
            Assert.Contains(segment, warning, StringComparison.Ordinal);
            for (var i = 1; i <= batches.Length; i++)
            {
                AssertReads(log, batches, i);
            }

            AssertFindsByTimestamp(log, batches);
        }

        // Rebuilt files were written back: the next open trusts them.
        Assert.Equal(original, File.ReadAllBytes(index));
        var quiet = new SegmentTestLogger();
        await using var reopened = await SegmentLog.OpenAsync(Options(directory), logger: quiet);
        Assert.Empty(quiet.Messages(2002));
        AssertWholeLog(reopened, batches);
    }

    [Fact]
    public async Task Index_files_without_a_segment_are_removed()
    {
        using var directory = new SegmentTestDirectory();
        var batches = await WriteLogAsync(directory, 20);
        var orphan = Path.Combine(directory.Path, "00000000000000099999.index");
        File.WriteAllBytes(orphan, [1, 2, 3]);

        await using var log = await SegmentLog.OpenAsync(Options(directory));
        Assert.False(File.Exists(orphan));
        AssertWholeLog(log, batches);
    }

    [Fact]
    public async Task A_log_file_with_a_foreign_name_fails_the_open()
    {
        using var directory = new SegmentTestDirectory();
        await WriteLogAsync(directory, 3);
        var stray = Path.Combine(directory.Path, "notes.log");
        File.WriteAllText(stray, "hello");

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Equal(stray, error.FilePath);
        Assert.Contains("20 digits", error.Message, StringComparison.Ordinal);
    }

    internal static SegmentLogOptions Options(SegmentTestDirectory directory, int indexIntervalBytes = 256, bool verifyAll = false) => new()
    {
        Directory = directory.Path,
        VerifyAllSegmentsOnOpen = verifyAll,
        SegmentSizeBytes = 4096,
        IndexIntervalBytes = indexIntervalBytes,
        Durability = DurabilityPolicy.Never,
    };

    private static async Task<byte[][]> WriteLogAsync(SegmentTestDirectory directory, int count, int payloadBytes = PayloadBytes, int indexIntervalBytes = 256)
    {
        var batches = new byte[count][];
        await using var log = await SegmentLog.OpenAsync(Options(directory, indexIntervalBytes));
        for (var i = 0; i < count; i++)
        {
            // Timestamps that rise and fall, so that the time index has work to do.
            var timestamp = SegmentTestBatches.BaseTimestampMs + (i * 100) + ((i % 3) * 170);
            batches[i] = SegmentTestBatches.Create(i + 1, term: 1 + (i / 10), payloadBytes, timestamp, timestamp + (i % 4 * 50));
            log.Append(batches[i]);
        }

        return batches;
    }

    private static void AssertReads(SegmentLog log, byte[][] batches, long index)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var result = log.Read(index, 0, buffer);
        Assert.Equal(1, result.BatchCount);
        Assert.True(batches[index - 1].AsSpan().SequenceEqual(buffer.WrittenSpan), $"Batch {index} read back differs.");
    }

    private static void AssertWholeLog(SegmentLog log, byte[][] batches)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var result = log.Read(1, long.MaxValue, buffer);
        Assert.Equal(batches.Length, result.BatchCount);
        Assert.True(batches.SelectMany(b => b).SequenceEqual(buffer.WrittenSpan.ToArray()), "The log read back differs from what was written.");
    }

    private static void AssertFindsByTimestamp(SegmentLog log, byte[][] batches)
    {
        var maxima = batches.Select(b => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(40))).ToArray();
        for (var t = maxima.Min() - 10; t <= maxima.Max() + 10; t += 37)
        {
            var first = Array.FindIndex(maxima, m => m >= t);
            Assert.Equal(first < 0 ? null : first + 1, log.FindIndexByTimestamp(t));
        }
    }

    private static void FlipByte(string path, long position)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> one = stackalloc byte[1];
        RandomAccess.Read(handle, one, position);
        one[0] ^= 0x5A;
        RandomAccess.Write(handle, one, position);
    }

    private static void SetLength(string path, long length)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.SetLength(handle, length);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static void WriteWithValidCrc(string path, byte[] file)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), Checksum.Crc32C(file.AsSpan(8)));
        File.WriteAllBytes(path, file);
    }
}
