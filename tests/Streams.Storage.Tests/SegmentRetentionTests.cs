using System.Buffers;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>Retention by age and size, and prefix deletion: whole segments only, never the active one.</summary>
public sealed class SegmentRetentionTests
{
    [Fact]
    public async Task Segments_whose_newest_batch_is_older_than_retention_are_deleted_oldest_first()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory), clock);
        AppendUntilSegments(log, clock, 3);
        var old = log.Segments;

        // 20 h later the active segment is past SegmentMaxAge: the next append rolls it by age.
        clock.Advance(TimeSpan.FromHours(20));
        AppendUntilSegments(log, clock, 5);
        Assert.Equal(old[2].LastIndex + 1, log.Segments[3].BaseIndex);

        // Just under 24 h after the first batches: nothing is past retention.
        clock.Advance(TimeSpan.FromHours(4) - TimeSpan.FromMinutes(1));
        Assert.Equal(0, log.ApplyRetention());

        // Just over: the three old segments go, the newer ones stay.
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(3, log.ApplyRetention());
        Assert.Equal(old[2].LastIndex + 1, log.FirstIndex);
        Assert.Equal(2, log.Segments.Count);
        Assert.False(File.Exists(old[0].FilePath));
        Assert.False(File.Exists(Path.ChangeExtension(old[1].FilePath, ".index")));
        Assert.Throws<LogCompactedException>(() => log.Read(old[2].LastIndex, 0, new ArrayBufferWriter<byte>()));
        Assert.Equal(1, log.Read(log.FirstIndex, 0, new ArrayBufferWriter<byte>()).BatchCount);
    }

    [Fact]
    public async Task An_active_segment_past_retention_is_rolled_so_that_it_expires_and_the_log_goes_on()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        var options = Options(directory);
        await using (var log = await SegmentLog.OpenAsync(options, clock))
        {
            AppendUntilSegments(log, clock, 2);
            var last = log.LastIndex;
            clock.Advance(TimeSpan.FromHours(25));

            Assert.Equal(2, log.ApplyRetention());
            Assert.Equal(last, log.LastIndex);
            Assert.Equal(last + 1, log.FirstIndex);
            Assert.Equal(0, log.LastTerm);
            var active = Assert.Single(log.Segments);
            Assert.Equal(last + 1, active.BaseIndex);
            Assert.Equal(0, log.Read(last + 1, 0, new ArrayBufferWriter<byte>()).BatchCount);
            Assert.Throws<LogCompactedException>(() => log.Read(last, 0, new ArrayBufferWriter<byte>()));
        }

        // The empty active segment keeps the position across a reopening.
        await using var reopened = await SegmentLog.OpenAsync(options, clock);
        var end = reopened.LastIndex;
        Assert.Equal(end + 1, reopened.FirstIndex);
        reopened.Append(SegmentTestBatches.Create(end + 1, firstTimestampMs: clock.GetUtcNow().ToUnixTimeMilliseconds()));
        Assert.Equal(end + 1, reopened.FirstIndex);
        Assert.Equal(end + 1, reopened.LastIndex);
    }

    [Fact]
    public async Task Size_retention_deletes_the_oldest_segments_while_the_log_is_larger_than_the_limit()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory, retentionBytes: 10_000), clock);
        AppendUntilSegments(log, clock, 6);
        var before = log.Segments;
        var deleted = log.ApplyRetention();

        var after = log.Segments;
        var total = after.Sum(s => s.SizeBytes);
        Assert.True(total <= 10_000, $"{total} bytes left, more than the 10,000 allowed.");
        Assert.True(total + before[deleted - 1].SizeBytes > 10_000, "Retention deleted more than it needed to.");
        Assert.Equal(before[deleted].BaseIndex, log.FirstIndex);
        Assert.Equal(before.Count - deleted, after.Count);
        Assert.Equal(0, log.ApplyRetention());
    }

    [Fact]
    public async Task Size_retention_never_deletes_the_active_segment()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory, retentionBytes: 1), clock);
        AppendUntilSegments(log, clock, 3);
        var active = log.Segments[^1];
        Assert.Equal(2, log.ApplyRetention());
        Assert.Equal(active.BaseIndex, Assert.Single(log.Segments).BaseIndex);
    }

    [Fact]
    public async Task DeleteBefore_deletes_only_whole_segments_below_the_index_and_never_the_active_one()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        await using var log = await SegmentLog.OpenAsync(Options(directory), clock);
        AppendUntilSegments(log, clock, 4);
        var segments = log.Segments;

        // An index inside the second segment: only the first goes.
        Assert.Equal(1, log.DeleteBefore(segments[1].BaseIndex + 1));
        Assert.Equal(segments[1].BaseIndex, log.FirstIndex);
        Assert.Equal(0, log.DeleteBefore(segments[1].BaseIndex));

        // Far beyond the end: every closed segment, never the active one.
        Assert.Equal(2, log.DeleteBefore(long.MaxValue));
        Assert.Equal(segments[3].BaseIndex, Assert.Single(log.Segments).BaseIndex);
        Assert.Equal(segments[3].BaseIndex, log.FirstIndex);
        Assert.Equal(segments.Count - 3, Directory.GetFiles(directory.Path, "*.log").Length);
    }

    [Fact]
    public async Task Deleted_segments_stay_deleted_after_a_reopening()
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        long first;
        await using (var log = await SegmentLog.OpenAsync(Options(directory), clock))
        {
            AppendUntilSegments(log, clock, 4);
            log.DeleteBefore(log.Segments[2].BaseIndex);
            first = log.FirstIndex;
        }

        await using var reopened = await SegmentLog.OpenAsync(Options(directory), clock);
        Assert.Equal(first, reopened.FirstIndex);
        Assert.Equal(2, reopened.Segments.Count);
    }

    private static SegmentLogOptions Options(SegmentTestDirectory directory, long? retentionBytes = null) => new()
    {
        Directory = directory.Path,
        SegmentSizeBytes = 4096,
        IndexIntervalBytes = 256,
        Durability = DurabilityPolicy.Never,
        RetentionBytes = retentionBytes,
    };

    /// <summary>Appends batches stamped with the clock's time until the log has <paramref name="count"/> segments.</summary>
    private static void AppendUntilSegments(SegmentLog log, SegmentTestClock clock, int count)
    {
        while (log.Segments.Count < count || log.Segments[^1].LastIndex < log.Segments[^1].BaseIndex)
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            log.Append(SegmentTestBatches.Create(log.LastIndex + 1, payloadBytes: 900, firstTimestampMs: now));
        }
    }
}
