using Streams.Storage.Batches;
using Streams.Storage.Segments.Files;

namespace Streams.Storage.Segments;

/// <summary>Appending and rolling.</summary>
public sealed partial class SegmentLog
{
    /// <summary>
    /// Appends one batch and returns without waiting for an fsync. The batch must pass
    /// <see cref="BatchHeader.Validate"/>, carry index <see cref="LastIndex"/> + 1 (any index ≥ 1
    /// when the log holds no batch: a Raft log may restart after a snapshot) and a term not below
    /// <see cref="LastTerm"/>. The active segment rolls first when <c>ShouldRoll</c> says so.
    /// </summary>
    /// <param name="batch">The whole batch, header included.</param>
    /// <returns>Its index and whether it is already durable (see <see cref="WaitForDurableAsync"/>).</returns>
    /// <exception cref="ArgumentException">The batch is invalid or out of sequence; nothing stored changed.</exception>
    /// <exception cref="IOException">Writing failed, or an earlier fsync failed.</exception>
    public AppendResult Append(ReadOnlySpan<byte> batch)
    {
        var problem = BatchHeader.Validate(batch);
        if (problem is not null)
        {
            throw new ArgumentException($"The batch is not valid: {problem}.", nameof(batch));
        }

        var header = BatchHeader.Read(batch);
        lock (_writeLock)
        {
            ThrowIfUnusable();
            var last = _lastIndex;
            var segments = _segments;
            var holdsBatches = segments.Length > 0 && segments[0].BaseIndex <= last;
            if (holdsBatches && header.Index != last + 1)
            {
                throw new ArgumentException(Invariant($"The batch has index {header.Index}, but the log ends at index {last}: the next batch must have index {last + 1} (truncate the log first to replace batches)."), nameof(batch));
            }

            if (!holdsBatches && header.Index < 1)
            {
                throw new ArgumentException(Invariant($"The batch has index {header.Index}: indexes start at 1."), nameof(batch));
            }

            if (header.Term < _lastTerm || header.Term < 0)
            {
                throw new ArgumentException(Invariant($"The batch has term {header.Term}, below the term of the last batch ({_lastTerm}): terms never decrease in a Raft log."), nameof(batch));
            }

            var now = _timeProvider.GetUtcNow();
            var nowMs = now.ToUnixTimeMilliseconds();
            Segment active;
            if (!holdsBatches && (segments.Length == 0 || segments[^1].BaseIndex != header.Index))
            {
                active = Restart(header.Index, now);
            }
            else
            {
                active = segments[^1];
                var reason = ShouldRoll(active, header, batch.Length, nowMs);
                if (reason != RollReason.None)
                {
                    active = Roll(reason, now);
                }
            }

            active.Append(batch, header, nowMs);
            Volatile.Write(ref _lastTerm, header.Term);
            Volatile.Write(ref _lastIndex, header.Index);
        }

        _appendWaiters.Advance(Volatile.Read(ref _lastIndex));
        RequestFlush();
        return new AppendResult(header.Index, header.Term, batch.Length, DurableIndex >= header.Index);
    }

    /// <summary>
    /// Every reason for the active segment to roll before the next batch, in one place: never
    /// when it is empty; when the batch would take it beyond SegmentSizeBytes; when its first
    /// batch is SegmentMaxAge old; when the batch's index would not fit the offset index.
    /// </summary>
    private RollReason ShouldRoll(Segment active, in BatchHeader next, int length, long nowMs)
    {
        if (active.IsEmpty)
        {
            return RollReason.None;
        }

        if (active.SizeBytes + length > _options.SegmentSizeBytes)
        {
            return RollReason.Size;
        }

        if (nowMs - active.FirstAppendAtMs >= (long)_options.SegmentMaxAge.TotalMilliseconds)
        {
            return RollReason.Age;
        }

        return next.Index - active.BaseIndex > uint.MaxValue ? RollReason.IndexRange : RollReason.None;
    }

    /// <summary>
    /// Seals the active segment (fsync of the log, index files written and fsynced) and starts a
    /// new one at LastIndex + 1. Under the write lock. The sealed batches are durable now.
    /// </summary>
    private Segment Roll(RollReason reason, DateTimeOffset now)
    {
        var segments = _segments;
        var old = segments[^1];
        old.Seal();
        var next = Segment.Create(_directory, _lastIndex + 1, _options.IndexIntervalBytes, now);
        Volatile.Write(ref _segments, [.. segments, next]);
        DirectorySync.Flush(_directory);
        SegmentLogLog.Rolled(_logger, old.LogPath, old.LastIndex, reason, next.BaseIndex);
        if (old.LastIndex > _durableIndex)
        {
            Volatile.Write(ref _durableIndex, old.LastIndex);
            _durableWaiters.Advance(DurableIndex);
        }

        return next;
    }

    /// <summary>
    /// The log holds no batch and the next one starts elsewhere than the active segment's base
    /// (or there is no segment yet): replaces the empty segments with one at <paramref name="index"/>.
    /// </summary>
    private Segment Restart(long index, DateTimeOffset now)
    {
        _rangeLock.EnterWriteLock();
        try
        {
            _rangeEpoch++;
            var old = _segments;
            foreach (var segment in old)
            {
                segment.Delete();
            }

            // Deleted before the new file exists: a crash in between leaves no segment rather than two.
            var fresh = Segment.Create(_directory, index, _options.IndexIntervalBytes, now);
            Volatile.Write(ref _segments, [fresh]);
            Volatile.Write(ref _lastIndex, index - 1);
            Volatile.Write(ref _lastTerm, 0);
            Volatile.Write(ref _durableIndex, index - 1);
            DirectorySync.Flush(_directory);
            if (old.Length > 0)
            {
                SegmentLogLog.Restarted(_logger, index);
            }

            return fresh;
        }
        finally
        {
            _rangeLock.ExitWriteLock();
        }
    }
}
