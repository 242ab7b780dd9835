using Streams.Storage.Segments.Files;

namespace Streams.Storage.Segments;

/// <summary>Removing batches: truncating the suffix, deleting the prefix, retention.</summary>
public sealed partial class SegmentLog
{
    /// <summary>
    /// Removes every batch after <paramref name="index"/> (a Raft conflict), across segments:
    /// later segments are deleted newest first, and the one holding <paramref name="index"/> is
    /// cut after it and becomes the active segment. Does nothing when index ≥ LastIndex.
    /// </summary>
    /// <param name="index">The last index kept; at least FirstIndex - 1 (which empties the log).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is below FirstIndex - 1.</exception>
    public void TruncateAfter(long index)
    {
        long removedTo;
        lock (_writeLock)
        {
            ThrowIfUnusable();
            var segments = _segments;
            var first = segments.Length == 0 ? _lastIndex + 1 : segments[0].BaseIndex;
            if (index < first - 1)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, Invariant($"The log starts at index {first}: truncate after index {first - 1} or later (the batches before {first} are already deleted)."));
            }

            removedTo = _lastIndex;
            if (index >= removedTo)
            {
                return;
            }

            _rangeLock.EnterWriteLock();
            try
            {
                _rangeEpoch++;
                var holder = FindSegment(segments, index + 1);
                var keep = segments[holder].BaseIndex == index + 1 && holder > 0 ? holder : holder + 1;
                Volatile.Write(ref _segments, segments[..keep]);
                for (var i = segments.Length - 1; i >= keep; i--)
                {
                    DeleteSegment(segments[i], "truncated (a Raft conflict)");
                }

                var active = segments[keep - 1];
                if (active.LastIndex > index)
                {
                    active.TruncateAfter(index);
                    if (_options.Durability != DurabilityPolicy.Never)
                    {
                        RandomAccess.FlushToDisk(active.Handle);
                    }
                }
                else
                {
                    // It takes appends again; an active segment's index files are written when it rolls.
                    active.DeleteIndexFiles();
                }

                Volatile.Write(ref _lastTerm, active.LastTerm);
                Volatile.Write(ref _lastIndex, index);
                if (_durableIndex > index)
                {
                    Volatile.Write(ref _durableIndex, index);
                }

                DirectorySync.Flush(_directory);
            }
            finally
            {
                _rangeLock.ExitWriteLock();
            }
        }

        SegmentLogLog.Truncated(_logger, index, index + 1, removedTo);
    }

    /// <summary>
    /// Removes every batch and makes the log start at <paramref name="firstIndex"/> at once:
    /// afterwards FirstIndex is <paramref name="firstIndex"/>, LastIndex and DurableIndex are
    /// <paramref name="firstIndex"/> - 1 and LastTerm is 0, as they are after a reopen. This is a
    /// Raft follower installing its leader's snapshot, which replaces the whole log. Segments are
    /// deleted newest first and all of them before the new, empty one is created, then the
    /// directory is fsynced: a crash part-way leaves a prefix of the old log (its FirstIndex
    /// unchanged, so a caller can tell the restart did not finish), no segment (reopened, an empty
    /// log at index 1), or the new one. Readers get a
    /// <see cref="LogCompactedException"/> below <paramref name="firstIndex"/>. Does nothing when
    /// the log already holds no batch and starts there.
    /// </summary>
    /// <param name="firstIndex">The index the next batch must carry; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstIndex"/> is below 1.</exception>
    /// <exception cref="IOException">Deleting or creating a file failed, or an earlier fsync failed.</exception>
    public void RestartAt(long firstIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstIndex, 1);
        SegmentInfo[] deleted;
        lock (_writeLock)
        {
            ThrowIfUnusable();
            var segments = _segments;
            if (segments.Length == 1 && segments[0].IsEmpty && segments[0].BaseIndex == firstIndex)
            {
                return;
            }

            deleted = Array.ConvertAll(segments, segment => segment.Info());
            _rangeLock.EnterWriteLock();
            try
            {
                _rangeEpoch++;
                for (var i = segments.Length - 1; i >= 0; i--)
                {
                    segments[i].Delete();
                }

                // Deleted before the new file exists: a crash in between leaves no segment rather than two.
                var fresh = Segment.Create(_directory, firstIndex, _options.IndexIntervalBytes, _timeProvider.GetUtcNow());
                Volatile.Write(ref _segments, [fresh]);
                Volatile.Write(ref _lastIndex, firstIndex - 1);
                Volatile.Write(ref _lastTerm, 0);
                Volatile.Write(ref _durableIndex, firstIndex - 1);
                DirectorySync.Flush(_directory);
            }
            finally
            {
                _rangeLock.ExitWriteLock();
            }
        }

        foreach (var info in deleted)
        {
            SegmentLogLog.SegmentDeleted(_logger, info.FilePath, info.BaseIndex, info.LastIndex, info.SizeBytes, "the log restarts at another index (a snapshot replaced it)");
        }

        // A jump forward passes waiters below the new start: they wake and find the batches gone.
        _appendWaiters.Advance(LastIndex);
        _durableWaiters.Advance(DurableIndex);
    }

    /// <summary>
    /// Deletes whole segments, oldest first, whose batches are all below <paramref name="index"/>
    /// (after a snapshot, or for retention); never the active segment. Readers inside a deleted
    /// segment finish their read.
    /// </summary>
    /// <returns>How many segments were deleted.</returns>
    public int DeleteBefore(long index)
    {
        lock (_writeLock)
        {
            ThrowIfUnusable();
            var segments = _segments;
            var count = 0;
            while (count < segments.Length - 1 && segments[count].LastIndex < index)
            {
                count++;
            }

            RemoveOldest(count, "below the requested first index");
            return count;
        }
    }

    /// <summary>
    /// Deletes whole segments, oldest first, whose newest batch (MaxTimestampMs) is older than now -
    /// Retention, then, when RetentionBytes is set, the oldest while the log is larger than it.
    /// The active segment is never deleted, but when all of it is past retention it rolls first so
    /// that its data can expire.
    /// </summary>
    /// <returns>How many segments were deleted.</returns>
    public int ApplyRetention()
    {
        lock (_writeLock)
        {
            ThrowIfUnusable();
            var now = _timeProvider.GetUtcNow();
            var cutoffMs = now.ToUnixTimeMilliseconds() - (long)_options.Retention.TotalMilliseconds;
            var segments = _segments;
            if (segments.Length > 0 && !segments[^1].IsEmpty && segments[^1].MaxTimestampMs < cutoffMs)
            {
                Roll(RollReason.Retention, now);
                segments = _segments;
            }

            var expired = 0;
            while (expired < segments.Length - 1 && segments[expired].MaxTimestampMs < cutoffMs)
            {
                expired++;
            }

            RemoveOldest(expired, "older than the retention period");
            var deleted = expired;
            if (_options.RetentionBytes is { } limit)
            {
                segments = _segments;
                long total = 0;
                foreach (var segment in segments)
                {
                    total += segment.SizeBytes;
                }

                var oversize = 0;
                while (oversize < segments.Length - 1 && total > limit)
                {
                    total -= segments[oversize].SizeBytes;
                    oversize++;
                }

                RemoveOldest(oversize, "the log is larger than RetentionBytes");
                deleted += oversize;
            }

            return deleted;
        }
    }

    /// <summary>Drops the oldest <paramref name="count"/> segments (under the write lock).</summary>
    private void RemoveOldest(int count, string reason)
    {
        if (count == 0)
        {
            return;
        }

        var segments = _segments;
        Volatile.Write(ref _segments, segments[count..]);
        if (segments[count].IsEmpty)
        {
            // Nothing is held any more: LastTerm says 0, as it will after a reopen.
            Volatile.Write(ref _lastTerm, 0);
        }

        for (var i = 0; i < count; i++)
        {
            DeleteSegment(segments[i], reason);
        }

        DirectorySync.Flush(_directory);
    }

    private void DeleteSegment(Segment segment, string reason)
    {
        var info = segment.Info();
        segment.Delete();
        SegmentLogLog.SegmentDeleted(_logger, info.FilePath, info.BaseIndex, info.LastIndex, info.SizeBytes, reason);
    }
}
