using System.Buffers;
using System.Buffers.Binary;
using Streams.Storage.Batches;

namespace Streams.Storage.Segments;

/// <summary>Reading, finding by time, and waiting for appends.</summary>
public sealed partial class SegmentLog
{
    /// <summary>
    /// Copies whole batches, in index order from <paramref name="fromIndex"/>, into
    /// <paramref name="destination"/>: at least one when there is one, then more while the total
    /// stays within <paramref name="maxBytes"/>. Every batch is checked against its CRC before it
    /// is handed out; a corrupt one is never returned.
    /// </summary>
    /// <param name="fromIndex">The first index to read: FirstIndex to LastIndex + 1 (which returns no batch).</param>
    /// <param name="maxBytes">A soft limit: the first batch is returned even if it is larger.</param>
    /// <param name="destination">Receives the batches back to back.</param>
    /// <exception cref="LogCompactedException"><paramref name="fromIndex"/> is below FirstIndex.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromIndex"/> is beyond LastIndex + 1, or below 1.</exception>
    /// <exception cref="StorageCorruptionException">A batch failed its checks (file and position named).</exception>
    public SegmentLogReadResult Read(long fromIndex, long maxBytes, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        ThrowIfDisposed();
        _rangeLock.EnterReadLock();
        try
        {
            return ReadShared(fromIndex, maxBytes, destination);
        }
        finally
        {
            _rangeLock.ExitReadLock();
        }
    }

    /// <summary>
    /// The first index whose batch has MaxTimestampMs ≥ <paramref name="timestampMs"/>, or null when
    /// no batch has: the first segment whose maximum reaches the timestamp holds it, and its time
    /// index says where to start reading headers.
    /// </summary>
    public long? FindIndexByTimestamp(long timestampMs)
    {
        ThrowIfDisposed();
        _rangeLock.EnterReadLock();
        try
        {
            foreach (var segment in Volatile.Read(ref _segments))
            {
                // The maximum is published after LastIndex, so the batch that raised it is in range.
                if (segment.MaxTimestampMs < timestampMs || segment.IsEmpty)
                {
                    continue;
                }

                if (!segment.TryAcquire())
                {
                    ThrowIfDisposed();
                    continue;
                }

                try
                {
                    return segment.FindByTimestamp(timestampMs, segment.LastIndex);
                }
                finally
                {
                    segment.Release();
                }
            }

            return null;
        }
        finally
        {
            _rangeLock.ExitReadLock();
        }
    }

    /// <summary>Completes when <see cref="LastIndex"/> &gt; <paramref name="afterIndex"/>: a reader at the end awaits new batches without polling.</summary>
    public ValueTask WaitForAppendAsync(long afterIndex, CancellationToken cancellationToken = default)
    {
        if (LastIndex > afterIndex)
        {
            return ValueTask.CompletedTask;
        }

        return Volatile.Read(ref _disposed) != 0
            ? ValueTask.FromException(new ObjectDisposedException(nameof(SegmentLog)))
            : _appendWaiters.WaitAsync(afterIndex + 1, cancellationToken);
    }

    private SegmentLogReadResult ReadShared(long fromIndex, long maxBytes, IBufferWriter<byte> destination)
    {
        // LastIndex first: every segment and byte it covers was published before it.
        var last = Volatile.Read(ref _lastIndex);
        var segments = Volatile.Read(ref _segments);
        var first = segments.Length == 0 ? last + 1 : segments[0].BaseIndex;
        if (fromIndex < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fromIndex), fromIndex, "Indexes start at 1.");
        }

        if (fromIndex < first)
        {
            throw new LogCompactedException(fromIndex, first);
        }

        if (fromIndex > last + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fromIndex), fromIndex, Invariant($"The log ends at index {last}: read from index {last + 1} at most (which returns no batch until one is appended)."));
        }

        if (fromIndex == last + 1)
        {
            return new SegmentLogReadResult(0, 0, fromIndex);
        }

        // References are taken up front on the segments the read should need (until their sizes
        // cover maxBytes), so that deleting them meanwhile cannot cut the read short; more are
        // taken on the way if that estimate falls short.
        var firstHeld = FindSegment(segments, fromIndex);
        var lastHeld = firstHeld - 1;
        try
        {
            long covered = 0;
            while (lastHeld + 1 < segments.Length)
            {
                if (lastHeld >= firstHeld && (covered > maxBytes || segments[lastHeld].LastIndex >= last))
                {
                    break;
                }

                if (!segments[lastHeld + 1].TryAcquire())
                {
                    break;
                }

                lastHeld++;
                covered += segments[lastHeld].SizeBytes;
            }

            if (lastHeld < firstHeld)
            {
                ThrowIfDisposed();
                throw new LogCompactedException(fromIndex, FirstIndex);
            }

            return ReadHeld(segments, firstHeld, ref lastHeld, fromIndex, last, maxBytes, destination);
        }
        finally
        {
            for (var i = firstHeld; i <= lastHeld; i++)
            {
                segments[i].Release();
            }
        }
    }

    /// <summary>Copies batches from segments [<paramref name="firstHeld"/>, <paramref name="lastHeld"/>], taking further ones as needed.</summary>
    private SegmentLogReadResult ReadHeld(Segment[] segments, int firstHeld, ref int lastHeld, long fromIndex, long last, long maxBytes, IBufferWriter<byte> destination)
    {
        var next = fromIndex;
        var count = 0;
        long bytes = 0;
        Span<byte> headerBuffer = stackalloc byte[BatchHeader.Size];
        for (var i = firstHeld; i < segments.Length && next <= last; i++)
        {
            if (i > lastHeld)
            {
                if (!segments[i].TryAcquire())
                {
                    // Deleted since (deletion takes the oldest first): what follows is gone too.
                    break;
                }

                lastHeld = i;
            }

            var segment = segments[i];
            var end = Math.Min(segment.LastIndex, last);
            if (next > end)
            {
                continue;
            }

            var position = segment.FindPosition(next);
            for (; next <= end; next++)
            {
                var header = segment.ReadHeader(position, next, headerBuffer);
                if (count > 0 && bytes + header.Length > maxBytes)
                {
                    return new SegmentLogReadResult(count, bytes, next);
                }

                var batch = destination.GetSpan(header.Length)[..header.Length];
                segment.ReadExactly(batch, position);
                var problem = BatchHeader.Validate(batch);
                if (problem is not null)
                {
                    throw segment.Corruption(position, problem);
                }

                if (BinaryPrimitives.ReadInt64LittleEndian(batch[24..]) != next)
                {
                    throw segment.Corruption(position, Invariant($"the batch has index {BinaryPrimitives.ReadInt64LittleEndian(batch[24..])} where index {next} belongs"));
                }

                destination.Advance(header.Length);
                count++;
                bytes += header.Length;
                position += header.Length;
                if (bytes >= maxBytes)
                {
                    return new SegmentLogReadResult(count, bytes, next + 1);
                }
            }
        }

        return new SegmentLogReadResult(count, bytes, next);
    }
}
