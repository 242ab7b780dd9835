using System.Buffers;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>RestartAt: a log replaced by a snapshot starts again at any index, at once and durably.</summary>
public sealed class SegmentLogRestartAtTests
{
    [Fact]
    public async Task A_log_holding_batches_restarts_further_on_and_stays_there_after_reopening()
    {
        using var directory = new SegmentTestDirectory();
        var options = Options(directory, DurabilityPolicy.Always);
        await using (var log = await SegmentLog.OpenAsync(options))
        {
            AppendRange(log, 1, 30, term: 2);
            Assert.True(log.Segments.Count > 2);

            log.RestartAt(101);
            Assert.Equal(101, log.FirstIndex);
            Assert.Equal(100, log.LastIndex);
            Assert.Equal(100, log.DurableIndex);
            Assert.Equal(0, log.LastTerm);
            Assert.Equal(["00000000000000000101.log"], FileNames(directory));
            Assert.Throws<LogCompactedException>(() => log.Read(30, 0, new ArrayBufferWriter<byte>()));
            Assert.Equal(new SegmentLogReadResult(0, 0, 101), log.Read(101, 1000, new ArrayBufferWriter<byte>()));

            // Any term goes after a restart, as after a snapshot.
            log.Append(SegmentTestBatches.Create(101, term: 1));
            var gap = Assert.Throws<ArgumentException>(() => log.Append(SegmentTestBatches.Create(103, term: 1)));
            Assert.Contains("must have index 102", gap.Message, StringComparison.Ordinal);
            await log.WaitForDurableAsync(101);
        }

        await using var reopened = await SegmentLog.OpenAsync(options);
        Assert.Equal(101, reopened.FirstIndex);
        Assert.Equal(101, reopened.LastIndex);
        Assert.Equal(1, reopened.LastTerm);
    }

    [Fact]
    public async Task A_log_restarts_before_its_first_index_too()
    {
        using var directory = new SegmentTestDirectory();
        var options = Options(directory, DurabilityPolicy.Never);
        await using (var log = await SegmentLog.OpenAsync(options))
        {
            AppendRange(log, 50, 60, term: 3);
            log.RestartAt(7);
            Assert.Equal(7, log.FirstIndex);
            Assert.Equal(6, log.LastIndex);
            log.Append(SegmentTestBatches.Create(7, term: 4));
        }

        await using var reopened = await SegmentLog.OpenAsync(options);
        Assert.Equal(7, reopened.FirstIndex);
        Assert.Equal(7, reopened.LastIndex);
        Assert.Equal(["00000000000000000007.log"], FileNames(directory));
    }

    [Fact]
    public async Task An_empty_log_restarts_at_once_without_waiting_for_an_append()
    {
        using var directory = new SegmentTestDirectory();
        var options = Options(directory, DurabilityPolicy.Always);
        await using (var log = await SegmentLog.OpenAsync(options))
        {
            Assert.Empty(log.Segments);
            log.RestartAt(42);
            Assert.Equal(42, log.FirstIndex);
            Assert.Equal(41, log.LastIndex);
            var segment = Assert.Single(log.Segments);
            Assert.Equal(42, segment.BaseIndex);
            Assert.Equal(41, segment.LastIndex);
        }

        await using var reopened = await SegmentLog.OpenAsync(options);
        Assert.Equal(42, reopened.FirstIndex);
        Assert.Equal(41, reopened.LastIndex);
        Assert.Equal(41, reopened.DurableIndex);
    }

    [Fact]
    public async Task Restarting_where_an_empty_log_already_starts_changes_nothing()
    {
        using var directory = new SegmentTestDirectory();
        var logger = new SegmentTestLogger();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Never), logger: logger);
        log.RestartAt(5);
        var created = File.GetLastWriteTimeUtc(Path.Combine(directory.Path, "00000000000000000005.log"));
        var deletions = logger.Messages(2004).Count();

        log.RestartAt(5);
        Assert.Equal(5, log.FirstIndex);
        Assert.Equal(4, log.LastIndex);
        Assert.Equal(created, File.GetLastWriteTimeUtc(Path.Combine(directory.Path, "00000000000000000005.log")));
        Assert.Equal(deletions, logger.Messages(2004).Count());
    }

    [Fact]
    public async Task Each_deleted_segment_is_logged_with_the_reason()
    {
        using var directory = new SegmentTestDirectory();
        var logger = new SegmentTestLogger();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Never), logger: logger);
        AppendRange(log, 1, 30, term: 1);
        var segments = log.Segments.Count;

        log.RestartAt(31);
        var messages = logger.Messages(2004).ToList();
        Assert.Equal(segments, messages.Count);
        Assert.All(messages, m => Assert.Contains("a snapshot replaced it", m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Waiters_below_a_forward_restart_wake_up()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Always));
        AppendRange(log, 1, 3, term: 1);
        var append = log.WaitForAppendAsync(10).AsTask();
        var durable = log.WaitForDurableAsync(10).AsTask();
        var beyond = log.WaitForAppendAsync(20).AsTask();

        log.RestartAt(20);
        await append.WaitAsync(TimeSpan.FromSeconds(10));
        await durable.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(beyond.IsCompleted);

        log.Append(SegmentTestBatches.Create(20, term: 1));
        log.Append(SegmentTestBatches.Create(21, term: 1));
        await beyond.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Index_0_is_refused_and_a_disposed_log_refuses_to_restart()
    {
        using var directory = new SegmentTestDirectory();
        var log = await SegmentLog.OpenAsync(Options(directory, DurabilityPolicy.Never));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.RestartAt(0));
        await log.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => log.RestartAt(3));
    }

    private static void AppendRange(SegmentLog log, long from, long to, long term)
    {
        for (var i = from; i <= to; i++)
        {
            log.Append(SegmentTestBatches.Create(i, term, payloadBytes: 400));
        }
    }

    private static List<string> FileNames(SegmentTestDirectory directory) =>
        [.. directory.LogFiles().Select(f => Path.GetFileName(f))];

    private static SegmentLogOptions Options(SegmentTestDirectory directory, DurabilityPolicy durability) => new()
    {
        Directory = directory.Path,
        SegmentSizeBytes = 4096,
        IndexIntervalBytes = 256,
        Durability = durability,
    };
}
