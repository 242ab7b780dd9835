using System.Buffers;
using System.Buffers.Binary;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>
/// One writer, many readers: readers at the tail await appends without polling, random readers
/// read while segments roll, are deleted and are truncated, and every batch they get is whole,
/// CRC-valid, in order and the one that was written.
/// </summary>
public sealed class SegmentConcurrencyTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Tail_and_random_readers_read_exactly_what_a_rolling_writer_appends()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        const int total = 3000;
        using var done = new CancellationTokenSource();

        var tails = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            var next = 1L;
            var random = new Random(r);
            while (next <= total)
            {
                await log.WaitForAppendAsync(next - 1);
                buffer.Clear();
                var result = log.Read(next, random.Next(0, 20_000), buffer);
                Assert.True(result.BatchCount > 0);
                VerifyBatches(buffer.WrittenSpan, next, result.BatchCount);
                next = result.NextIndex;
            }
        })).ToArray();

        var randoms = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            var random = new Random(100 + r);
            var reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                var last = log.LastIndex;
                if (last == 0)
                {
                    continue;
                }

                var from = random.NextInt64(1, last + 1);
                buffer.Clear();
                var result = log.Read(from, random.Next(0, 8000), buffer);
                VerifyBatches(buffer.WrittenSpan, from, result.BatchCount);
                reads++;
            }
        })).ToArray();

        for (var i = 1; i <= total; i++)
        {
            log.Append(Batch(i));
        }

        await Task.WhenAll(tails).WaitAsync(_timeout);
        await done.CancelAsync();
        await Task.WhenAll(randoms).WaitAsync(_timeout);
        Assert.True(log.Segments.Count > 10, $"Only {log.Segments.Count} segments: the test did not roll much.");
    }

    [Fact]
    public async Task A_read_inside_segments_deleted_under_it_finishes_with_the_right_batches()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        for (var i = 1; i <= 200; i++)
        {
            log.Append(Batch(i));
        }

        var segments = log.Segments;
        Assert.True(segments.Count > 3);

        // The destination deletes every closed segment as soon as the first batch lands in it.
        var destination = new DeletingBufferWriter(() => Assert.Equal(segments.Count - 1, log.DeleteBefore(long.MaxValue)));
        var result = log.Read(1, long.MaxValue, destination);

        Assert.Equal(200, result.BatchCount);
        VerifyBatches(destination.Written, 1, 200);
        Assert.False(File.Exists(segments[0].FilePath));
        Assert.Equal(segments[^1].BaseIndex, log.FirstIndex);
        Assert.Throws<LogCompactedException>(() => log.Read(1, 0, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task Readers_racing_prefix_deletion_get_whole_batches_or_a_compacted_error()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        const int total = 3000;
        log.Append(Batch(1));
        var compacted = 0;

        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            var next = 1L;
            while (next <= total)
            {
                await log.WaitForAppendAsync(next - 1);
                buffer.Clear();
                try
                {
                    var result = log.Read(next, 3000 * (r + 1), buffer);
                    VerifyBatches(buffer.WrittenSpan, next, result.BatchCount);
                    next = result.NextIndex;
                }
                catch (LogCompactedException e)
                {
                    Interlocked.Increment(ref compacted);
                    Assert.True(e.FirstIndex > next);
                    next = e.FirstIndex;
                }
            }
        })).ToArray();

        for (var i = 2; i <= total; i++)
        {
            log.Append(Batch(i));
            if (i % 50 == 0)
            {
                log.DeleteBefore(i - 100);
            }
        }

        await Task.WhenAll(readers).WaitAsync(_timeout);
        Assert.True(log.FirstIndex > 1);
    }

    [Fact]
    public async Task Readers_racing_truncation_never_see_a_torn_or_mixed_batch()
    {
        using var directory = new SegmentTestDirectory();
        await using var log = await SegmentLog.OpenAsync(Options(directory));
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            var random = new Random(r);
            while (!done.IsCancellationRequested)
            {
                var last = log.LastIndex;
                if (last == 0)
                {
                    continue;
                }

                var from = random.NextInt64(Math.Max(1, last - 60), last + 1);
                buffer.Clear();
                try
                {
                    var result = log.Read(from, random.Next(0, 10_000), buffer);
                    VerifyBatches(buffer.WrittenSpan, from, result.BatchCount, anyTerm: true);
                }
                catch (ArgumentOutOfRangeException)
                {
                    // Truncated below `from` since LastIndex was read: allowed.
                }
            }
        })).ToArray();

        var term = 1L;
        var random = new Random(42);
        for (var step = 0; step < 1500; step++)
        {
            if (step % 40 == 39)
            {
                log.TruncateAfter(Math.Max(0, log.LastIndex - random.Next(1, 30)));
                term++;
            }

            log.Append(Batch(log.LastIndex + 1, term));
        }

        await done.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(_timeout);
    }

    [Fact]
    public async Task WaitForAppendAsync_wakes_a_waiting_reader_when_a_batch_arrives()
    {
        using var directory = new SegmentTestDirectory();
        var log = await SegmentLog.OpenAsync(Options(directory));
        log.Append(Batch(1));
        Assert.True(log.WaitForAppendAsync(0).AsTask().IsCompletedSuccessfully);

        var waiting = log.WaitForAppendAsync(1).AsTask();
        var alsoWaiting = log.WaitForAppendAsync(1).AsTask();
        var further = log.WaitForAppendAsync(2).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        log.Append(Batch(2));
        await Task.WhenAll(waiting, alsoWaiting).WaitAsync(_timeout);
        Assert.False(further.IsCompleted);

        using var cancel = new CancellationTokenSource();
        var cancelled = log.WaitForAppendAsync(2, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(_timeout));

        await log.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => further.WaitAsync(_timeout));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.WaitForAppendAsync(5).AsTask());
    }

    private static SegmentLogOptions Options(SegmentTestDirectory directory) => new()
    {
        Directory = directory.Path,
        SegmentSizeBytes = 16 * 1024,
        IndexIntervalBytes = 512,
        Durability = DurabilityPolicy.Never,
    };

    private static int PayloadBytes(long index, long term) => (int)(((index * 37) + (term * 101)) % 1500);

    private static byte[] Batch(long index, long term = 1) => SegmentTestBatches.Create(index, term, PayloadBytes(index, term));

    /// <summary>Checks that <paramref name="bytes"/> holds exactly the batches written for [from, from + count).</summary>
    private static void VerifyBatches(ReadOnlySpan<byte> bytes, long from, int count, bool anyTerm = false)
    {
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
            var batch = bytes[..length];
            Assert.Null(BatchHeader.Validate(batch));
            var header = BatchHeader.Read(batch);
            Assert.Equal(from + i, header.Index);
            var expected = Batch(header.Index, anyTerm ? header.Term : 1);
            Assert.True(batch.SequenceEqual(expected), $"Batch {header.Index} is not the one written.");
            bytes = bytes[length..];
        }

        Assert.True(bytes.IsEmpty, $"{bytes.Length} bytes after the last batch.");
    }

    /// <summary>Calls an action at the first Advance: a deletion in the middle of a read.</summary>
    private sealed class DeletingBufferWriter(Action onFirstAdvance) : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _inner = new();
        private bool _fired;

        public ReadOnlySpan<byte> Written => _inner.WrittenSpan;

        public void Advance(int count)
        {
            _inner.Advance(count);
            if (!_fired)
            {
                _fired = true;
                onFirstAdvance();
            }
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);
    }
}
