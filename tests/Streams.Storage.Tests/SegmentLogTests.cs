using System.Buffers;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>The log's contract at its edges: what Append accepts, reads at the ends, rolling, naming.</summary>
public sealed class SegmentLogTests
{
    [Fact]
    public async Task An_empty_log_starts_at_index_1_and_reads_nothing()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        Assert.Equal(1, log.FirstIndex);
        Assert.Equal(0, log.LastIndex);
        Assert.Equal(0, log.LastTerm);
        Assert.Equal(0, log.DurableIndex);
        Assert.Equal(new SegmentLogReadResult(0, 0, 1), log.Read(1, 1000, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(2, 1000, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(0, 1000, new ArrayBufferWriter<byte>()));
        Assert.Null(log.FindIndexByTimestamp(0));
    }

    [Fact]
    public async Task Append_refuses_bad_batches_with_a_reason_and_changes_nothing()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        log.Append(SegmentTestBatches.Create(1, term: 2));
        log.Append(SegmentTestBatches.Create(2, term: 2));
        var size = log.Segments[^1].SizeBytes;

        var gap = Assert.Throws<ArgumentException>(() => log.Append(SegmentTestBatches.Create(4, term: 2)));
        Assert.Contains("must have index 3", gap.Message, StringComparison.Ordinal);
        var repeat = Assert.Throws<ArgumentException>(() => log.Append(SegmentTestBatches.Create(2, term: 2)));
        Assert.Contains("must have index 3", repeat.Message, StringComparison.Ordinal);
        var term = Assert.Throws<ArgumentException>(() => log.Append(SegmentTestBatches.Create(3, term: 1)));
        Assert.Contains("term 1", term.Message, StringComparison.Ordinal);

        var damaged = SegmentTestBatches.Create(3, term: 2);
        damaged[^1] ^= 1;
        var crc = Assert.Throws<ArgumentException>(() => log.Append(damaged));
        Assert.Contains("CRC-32C", crc.Message, StringComparison.Ordinal);
        var shortBatch = Assert.Throws<ArgumentException>(() => log.Append(new byte[10]));
        Assert.Contains("72 bytes", shortBatch.Message, StringComparison.Ordinal);

        Assert.Equal(2, log.LastIndex);
        Assert.Equal(2, log.LastTerm);
        Assert.Equal(size, log.Segments[^1].SizeBytes);
        Assert.Equal(size, new FileInfo(log.Segments[^1].FilePath).Length);
        log.Append(SegmentTestBatches.Create(3, term: 3));
        Assert.Equal(3, log.LastTerm);
    }

    [Fact]
    public async Task An_empty_log_takes_any_first_index_as_after_a_snapshot()
    {
        using var directory = new SegmentTestDirectory();
        var options = Options(directory);
        await using (var log = await SegmentLog.OpenAsync(options))
        {
            log.Append(SegmentTestBatches.Create(1000, term: 5));
            Assert.Equal(1000, log.FirstIndex);
            Assert.Equal(1000, log.LastIndex);
            Assert.Throws<LogCompactedException>(() => log.Read(999, 0, new ArrayBufferWriter<byte>()));
            Assert.Equal(Path.Combine(directory.Path, "00000000000000001000.log"), Assert.Single(log.Segments).FilePath);

            // Emptied by a truncation, it restarts anywhere again.
            log.TruncateAfter(999);
            Assert.Equal(1000, log.FirstIndex);
            Assert.Equal(999, log.LastIndex);
            Assert.Equal(0, log.LastTerm);
            log.Append(SegmentTestBatches.Create(500, term: 6));
            log.Append(SegmentTestBatches.Create(501, term: 6));
            Assert.Equal(500, log.FirstIndex);
        }

        await using var reopened = await SegmentLog.OpenAsync(options);
        Assert.Equal(500, reopened.FirstIndex);
        Assert.Equal(501, reopened.LastIndex);
        Assert.Equal(6, reopened.LastTerm);
        Assert.Equal(["00000000000000000500.log"], directory.LogFiles().Select(f => Path.GetFileName(f)).ToList());
    }

    [Fact]
    public async Task TruncateAfter_removes_batches_across_segments_and_refuses_what_is_already_gone()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        for (var i = 1; i <= 40; i++)
        {
            log.Append(SegmentTestBatches.Create(i, term: 1 + (i / 15), payloadBytes: 400));
        }

        Assert.True(log.Segments.Count >= 5);
        log.TruncateAfter(10);
        Assert.Equal(10, log.LastIndex);
        Assert.Equal(1, log.LastTerm);
        Assert.Equal(2, log.Segments.Count);
        Assert.Equal(10, log.Segments[^1].LastIndex);
        Assert.Equal(2, directory.LogFiles().Length);

        log.TruncateAfter(20);
        Assert.Equal(10, log.LastIndex);
        log.DeleteBefore(9);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => log.TruncateAfter(log.FirstIndex - 2));
        Assert.Contains($"truncate after index {log.FirstIndex - 1} or later", error.Message, StringComparison.Ordinal);

        log.Append(SegmentTestBatches.Create(11, term: 9, payloadBytes: 400));
        var buffer = new ArrayBufferWriter<byte>();
        log.Read(11, 0, buffer);
        Assert.Equal(9, BatchHeader.Read(buffer.WrittenSpan).Term);
    }

    [Fact]
    public async Task Read_returns_at_least_one_batch_and_then_whole_batches_within_maxBytes()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        for (var i = 1; i <= 5; i++)
        {
            log.Append(SegmentTestBatches.Create(i, payloadBytes: 128));
        }

        Assert.Equal(new SegmentLogReadResult(1, 200, 2), log.Read(1, 0, new ArrayBufferWriter<byte>()));
        Assert.Equal(new SegmentLogReadResult(1, 200, 2), log.Read(1, 399, new ArrayBufferWriter<byte>()));
        Assert.Equal(new SegmentLogReadResult(2, 400, 3), log.Read(1, 400, new ArrayBufferWriter<byte>()));
        Assert.Equal(new SegmentLogReadResult(3, 600, 6), log.Read(3, long.MaxValue, new ArrayBufferWriter<byte>()));
        Assert.Equal(new SegmentLogReadResult(0, 0, 6), log.Read(6, long.MaxValue, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task Segments_roll_by_size_and_by_age_and_are_named_so_that_names_sort_by_index()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory), clock);
        for (var i = 1; i <= 9; i++)
        {
            log.Append(SegmentTestBatches.Create(i, payloadBytes: 400));
        }

        // Eight 472-byte batches fit in 4 KiB; the ninth starts a segment.
        Assert.Equal([1L, 9L], log.Segments.Select(s => s.BaseIndex));

        // A batch larger than a segment gets one of its own.
        log.Append(SegmentTestBatches.Create(10, payloadBytes: 9000));
        log.Append(SegmentTestBatches.Create(11));
        Assert.Equal([1L, 9L, 10L, 11L], log.Segments.Select(s => s.BaseIndex));

        // Age: an hour after the active segment's first append, the next append rolls it.
        clock.Advance(TimeSpan.FromMinutes(59));
        log.Append(SegmentTestBatches.Create(12));
        Assert.Equal(4, log.Segments.Count);
        clock.Advance(TimeSpan.FromMinutes(1));
        log.Append(SegmentTestBatches.Create(13));
        Assert.Equal(13, log.Segments[^1].BaseIndex);
        Assert.Equal(clock.GetUtcNow(), log.Segments[^1].CreatedAt);

        var names = directory.LogFiles().Select(f => Path.GetFileName(f)).ToList();
        Assert.Equal(["00000000000000000001.log", "00000000000000000009.log", "00000000000000000010.log", "00000000000000000011.log", "00000000000000000013.log"], names);

        // Closed segments have their index files; the active one gets them when it rolls.
        Assert.True(File.Exists(Path.Combine(directory.Path, "00000000000000000011.index")));
        Assert.True(File.Exists(Path.Combine(directory.Path, "00000000000000000011.timeindex")));
        Assert.False(File.Exists(Path.Combine(directory.Path, "00000000000000000013.index")));
    }

    [Fact]
    public async Task Segment_infos_describe_each_segment()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory), clock);
        log.Append(SegmentTestBatches.Create(1, firstTimestampMs: 100, maxTimestampMs: 900));
        log.Append(SegmentTestBatches.Create(2, firstTimestampMs: 200, maxTimestampMs: 300));
        var info = Assert.Single(log.Segments);
        Assert.Equal(new SegmentInfo(1, 2, 344, 900, clock.GetUtcNow(), Path.Combine(directory.Path, "00000000000000000001.log")), info);
        Assert.Equal(1, log.FindIndexByTimestamp(900));
        Assert.Null(log.FindIndexByTimestamp(901));
        Assert.Equal(1, log.FindIndexByTimestamp(long.MinValue));
    }

    [Fact]
    public async Task A_directory_holds_one_open_log_at_a_time()
    {
        using var directory = new SegmentTestDirectory();
        var first = await SegmentLog.OpenAsync(Options(directory));
        var error = await Assert.ThrowsAsync<IOException>(() => SegmentLog.OpenAsync(Options(directory)));
        Assert.Contains("already open", error.Message, StringComparison.Ordinal);
        await first.DisposeAsync();
        await using var second = await SegmentLog.OpenAsync(Options(directory));
    }

    [Fact]
    public async Task OpenAsync_creates_a_missing_directory_and_validates_options()
    {
        using var directory = new SegmentTestDirectory();
        var nested = Path.Combine(directory.Path, "a", "b");
        await using (var log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = nested }))
        {
            Assert.True(Directory.Exists(nested));
        }

        await Assert.ThrowsAsync<ArgumentException>(() => SegmentLog.OpenAsync(new SegmentLogOptions { Directory = nested, SegmentSizeBytes = 1 }));
    }

    [Theory]
    [InlineData(DurabilityPolicy.Never)]
    [InlineData(DurabilityPolicy.Always)]
    public async Task Append_and_Read_allocate_nothing_per_batch(DurabilityPolicy durability)
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(new SegmentLogOptions
        {
            Directory = directory.Path,
            Durability = durability,
            SegmentSizeBytes = 64L * 1024 * 1024,

            // No index entries: their arrays grow by doubling, a cost per index entry, not per batch.
            IndexIntervalBytes = SegmentLogOptions.MaxIndexIntervalBytes,
        });
        var batches = Enumerable.Range(1, 2000).Select(i => SegmentTestBatches.Create(i, payloadBytes: 1000)).ToArray();
        var destination = new ArrayBufferWriter<byte>(4 * 1024 * 1024);
        for (var i = 0; i < 100; i++)
        {
            log.Append(batches[i]);
        }

        log.Read(1, 0, destination);
        destination.Clear();

        // Three windows of 600 appends: an allocation per batch shows in every window, while a
        // one-off of the runtime's (tier-up, a cache built lazily) lands in one at most.
        var appended = long.MaxValue;
        for (var window = 0; window < 3; window++)
        {
            var start = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 100 + (window * 600); i < 100 + ((window + 1) * 600); i++)
            {
                log.Append(batches[i]);
            }

            appended = Math.Min(appended, GC.GetAllocatedBytesForCurrentThread() - start);
        }

        // Reads too are measured in three windows, for the same reason.
        var read = long.MaxValue;
        for (var window = 0; window < 3; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var from = 1; from <= batches.Length - 100; from += 50)
            {
                destination.Clear();
                log.Read(from, 50 * 1072, destination);
            }

            read = Math.Min(read, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // Under Always each append may wake the flusher, whose continuation goes on this thread's
        // thread-pool work queue; when other work keeps the pool busy that queue grows now and
        // then (the runtime's allocation, amortized, a few bytes per append at most). Never and
        // Interval wake nobody, so for them the bound is nothing at all.
        var bound = durability == DurabilityPolicy.Always ? 600 * 8 : 1024;
        Assert.True(appended < bound, $"{appended} bytes allocated by 600 appends in the quietest of three windows (bound {bound}).");
        Assert.True(read < 1024, $"{read} bytes allocated by 38 reads in the quietest of three windows.");
    }

    private static SegmentLogOptions Options(SegmentTestDirectory directory) => new()
    {
        Directory = directory.Path,
        SegmentSizeBytes = 4096,
        IndexIntervalBytes = 256,
        Durability = DurabilityPolicy.Never,
    };
}
