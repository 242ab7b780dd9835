namespace Streams.Raft.Storage.FileLog;

/// <summary>
/// Rebuilds a <see cref="FileRaftLog"/>'s state from its directory, repairing what a crash can
/// leave behind and refusing what it cannot (see Storage/FORMAT.md, "Recovery").
/// </summary>
internal static class LogRecovery
{
    /// <summary>Reads the snapshot and replays the segments of its generation.</summary>
    /// <param name="directory">The log directory (full path), locked by the caller.</param>
    /// <param name="fsync">Whether repairs (truncation, deletions) are fsynced.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="RaftLogCorruptionException">Damage a crash cannot explain.</exception>
    public static async ValueTask<RecoveredLog> RecoverAsync(string directory, bool fsync, CancellationToken cancellationToken)
    {
        var result = new RecoveredLog();
        var temp = Path.Combine(directory, SnapshotFile.TempFileName);
        if (File.Exists(temp))
        {
            // A snapshot write that never reached its rename: never part of the log.
            File.Delete(temp);
            result.DeletedFiles.Add(SnapshotFile.TempFileName);
        }

        var stored = await SnapshotFile.ReadAsync(directory, cancellationToken);
        if (stored is { } found)
        {
            result.Snapshot = found.Snapshot;
            result.Generation = found.Generation;
        }

        var files = new List<(long Sequence, string Path)>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            if (LogFormat.TryParseSegmentName(Path.GetFileName(path), out var sequence))
            {
                files.Add((sequence, path));
            }
        }

        files.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        if (files.Count > 0)
        {
            result.NextSequence = files[^1].Sequence + 1;
        }

        var kept = new List<(LogSegment Segment, byte[] Bytes)>();
        for (var i = 0; i < files.Count; i++)
        {
            var (sequence, path) = files[i];
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            if (!LogFormat.TryReadHeader(bytes, out var segmentGeneration, out var headerSequence))
            {
                // Only the newest segment can be half created; it is written whole (header and
                // first frame) and fsynced before anything else happens.
                if (i != files.Count - 1)
                {
                    throw new RaftLogCorruptionException(path, 0, "invalid segment header in a segment older than the newest");
                }

                var intact = LogFormat.FindIntactFrame(bytes, 0);
                if (intact >= 0)
                {
                    throw new RaftLogCorruptionException(path, 0, $"invalid segment header but an intact frame at offset {intact}");
                }

                Delete(path, result);
                continue;
            }

            if (headerSequence != sequence)
            {
                throw new RaftLogCorruptionException(path, 16, $"the header names segment {headerSequence}");
            }

            if (segmentGeneration != result.Generation)
            {
                // Older: the log a committed snapshot installation replaced. Newer: an
                // installation whose snapshot never reached its rename.
                Delete(path, result);
                continue;
            }

            kept.Add((new LogSegment(sequence, path), bytes));
        }

        var snapshotIndex = result.Snapshot?.Metadata.Index ?? 0;
        for (var k = 0; k < kept.Count; k++)
        {
            var (segment, bytes) = kept[k];
            var last = k == kept.Count - 1;
            long position = LogFormat.HeaderSize;
            var frames = 0;
            while (position < bytes.Length)
            {
                var length = LogFormat.IntactFrameBodyLength(bytes, position);
                if (length < 0)
                {
                    break;
                }

                Replay(bytes.AsSpan((int)position + LogFormat.FrameHeaderSize, length), segment, position, snapshotIndex, result);
                position += LogFormat.FrameHeaderSize + length;
                frames++;
            }

            if (position < bytes.Length)
            {
                if (!last)
                {
                    throw new RaftLogCorruptionException(
                        segment.Path, position, "invalid frame in a segment that was complete and fsynced before a newer one began");
                }

                var intact = LogFormat.FindIntactFrame(bytes, position + 1);
                if (intact >= 0)
                {
                    throw new RaftLogCorruptionException(
                        segment.Path, position, $"invalid frame followed by an intact frame at offset {intact} (damage, not a torn write)");
                }

                if (frames > 0)
                {
                    // A torn last write: the frame never completed, so its SaveAsync never returned.
                    Truncate(segment.Path, position, fsync);
                    result.TruncatedFile = segment.Path;
                    result.TruncatedBytes = bytes.Length - position;
                }
            }

            if (frames == 0)
            {
                if (!last)
                {
                    throw new RaftLogCorruptionException(segment.Path, LogFormat.HeaderSize, "a segment older than the newest holds no frame");
                }

                // The first write of a new segment was torn: the previous segment is still whole.
                Delete(segment.Path, result);
                continue;
            }

            segment.Size = position;

            result.Segments.Add(segment);
        }

        if (result.DeletedFiles.Count > 0 && fsync)
        {
            DirectorySync.Flush(directory);
        }

        return result;
    }

    private static void Replay(ReadOnlySpan<byte> body, LogSegment segment, long position, long snapshotIndex, RecoveredLog result)
    {
        var entries = result.Entries;
        var offset = 0;
        while (offset < body.Length)
        {
            if (!LogFormat.TryReadRecord(body, ref offset, out var entry, out var hardState, out var problem))
            {
                throw new RaftLogCorruptionException(segment.Path, position, problem + " in a frame whose checksum matches");
            }

            if (entry is null)
            {
                result.HardState = hardState;
                continue;
            }

            segment.Wrote(entry.Index);

            // An entry at index i voids every held entry from i on (a follower overwriting a
            // conflicting suffix): no separate truncation record is needed. Entries the snapshot
            // covers are dropped, but still void what follows them.
            if (entry.Index <= snapshotIndex)
            {
                entries.Clear();
                continue;
            }

            var keep = entry.Index - snapshotIndex - 1;
            if (keep > entries.Count)
            {
                throw new RaftLogCorruptionException(
                    segment.Path, position, $"entry {entry.Index} leaves a gap after index {snapshotIndex + entries.Count}");
            }

            entries.RemoveRange((int)keep, entries.Count - (int)keep);
            entries.Add(entry);
        }
    }

    private static void Truncate(string path, long length, bool fsync)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.SetLength(handle, length);
        if (fsync)
        {
            RandomAccess.FlushToDisk(handle);
        }
    }

    private static void Delete(string path, RecoveredLog result)
    {
        File.Delete(path);
        result.DeletedFiles.Add(Path.GetFileName(path));
    }
}
