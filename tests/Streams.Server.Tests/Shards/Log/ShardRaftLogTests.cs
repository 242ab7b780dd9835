using System.Buffers;
using System.Buffers.Binary;
using Streams.Raft.Membership;
using Streams.Raft.Storage;
using Streams.Server.Shards.Log;
using Streams.Storage.Batches;
using Streams.Storage.Segments;
using static Streams.Server.Tests.Shards.Log.ShardLogTestEntries;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>The shard Raft log at its edges: what is on disk, what readers see, recovery, refusals.</summary>
public sealed class ShardRaftLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_batch_with_placeholders_is_stored_with_the_entrys_term_and_index_and_a_valid_crc()
    {
        var entries = new[] { Records(3, 1), Records(3, 2), Records(4, 3) };
        var proposed = entries.Select(e => e.Data.ToArray()).ToArray();
        await using (var log = await ShardRaftLog.OpenAsync(Options(_dir.Path, DurabilityPolicy.Always)))
        {
            await log.SaveAsync(new HardState(4, 1, 0), entries, null, default);

            // The proposer's bytes are not touched: a copy was patched.
            for (var i = 0; i < entries.Length; i++)
            {
                Assert.Equal(proposed[i], entries[i].Data.ToArray());
                Assert.Equal(0, BatchHeader.Read(entries[i].Data.Span).Index);
            }
        }

        // On disk, straight from the segment file: whole batches back to back, each at its place.
        var file = await File.ReadAllBytesAsync(Assert.Single(Directory.GetFiles(_dir.Path, "*.log")));
        var position = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var header = BatchHeader.Read(file.AsSpan(position));
            var batch = file.AsSpan(position, header.Length);
            Assert.Null(BatchHeader.Validate(batch));
            Assert.Equal(entries[i].Term, header.Term);
            Assert.Equal(entries[i].Index, header.Index);
            Assert.Equal(Stored(entries[i]).Data.ToArray(), batch.ToArray());

            // Everything but term, index and CRC is the proposer's.
            Assert.Equal(proposed[i].AsSpan(BatchHeader.Size).ToArray(), batch[BatchHeader.Size..].ToArray());
            Assert.Equal(proposed[i].AsSpan(8, 8).ToArray(), batch.Slice(8, 8).ToArray());
            position += header.Length;
        }

        Assert.Equal(file.Length, position);
    }

    [Fact]
    public async Task A_batch_already_at_its_position_is_stored_as_it_is()
    {
        var batch = RecordBatch(5, 1, 3, 1_700_000_000_000, new Random(1));
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path));
        await log.SaveAsync(null, [new Entry(5, 1, batch)], null, default);

        var read = new ArrayBufferWriter<byte>();
        log.Segments.Read(1, 0, read);
        Assert.Equal(batch, read.WrittenSpan.ToArray());
        Assert.True(new Entry(5, 1, batch).ContentEquals(Assert.Single(log.Entries(1, 2, long.MaxValue))));
    }

    [Fact]
    public async Task Readers_find_every_batch_in_Segments_at_its_index_and_the_logs_own_entries_hold_no_records()
    {
        var random = new Random(7);
        var appControl = ControlBatch(ShardLogControlKinds.FirstApplicationKind, 0, 0, "seal"u8);
        var entries = new[]
        {
            NoOp(2, 1),
            Records(2, 2, random),
            Config(2, 3, random),
            new Entry(2, 4, appControl),
            new Entry(2, 5, RecordBatch(0, 0, 3, 1_700_000_000_000, random, BatchCodec.Lz4)),
        };
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path));
        await log.SaveAsync(null, entries, null, default);

        var buffer = new ArrayBufferWriter<byte>();
        var result = log.Segments.Read(1, long.MaxValue, buffer);
        Assert.Equal(5, result.BatchCount);
        var span = buffer.WrittenSpan;
        using var reader = new BatchReader();
        var records = new List<int>();
        var payloads = new List<byte[]>();
        for (var index = 1; index <= 5; index++)
        {
            var header = BatchHeader.Read(span);
            Assert.Equal(index, header.Index);
            Assert.Equal(2, header.Term);
            var opened = reader.Open(span[..header.Length]);
            var count = 0;
            foreach (var record in opened)
            {
                count++;
            }

            records.Add(count);
            payloads.Add(opened.IsControl ? opened.ControlPayload.ToArray() : []);
            span = span[header.Length..];
        }

        Assert.Equal([0, 2, 0, 0, 3], records);
        Assert.Equal([ShardLogControlKinds.NoOp], payloads[0]);
        Assert.Equal([ShardLogControlKinds.Config, .. entries[2].Data.ToArray()], payloads[2]);
        Assert.Equal([ShardLogControlKinds.FirstApplicationKind, .. "seal"u8.ToArray()], payloads[3]);

        // And Raft gets back what it saved.
        var back = log.Entries(1, 6, long.MaxValue);
        Assert.Equal(5, back.Count);
        for (var i = 0; i < entries.Length; i++)
        {
            Assert.True(Stored(entries[i]).ContentEquals(back[i]), $"entry {i + 1}: {back[i]}");
        }

        Assert.Equal(EntryType.Config, back[2].Type);
        Assert.True(back[0].Data.IsEmpty);
    }

    [Fact]
    public async Task Entries_terms_hard_state_and_snapshot_survive_reopening()
    {
        var options = Options(_dir.Path, DurabilityPolicy.Always);
        var saved = new List<Entry>();
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            for (var i = 1; i <= 40; i++)
            {
                var term = 1 + (i / 12);
                var entry = (i % 7) switch
                {
                    0 => NoOp(term, i),
                    3 => Config(term, i),
                    _ => Records(term, i),
                };
                saved.Add(Stored(entry));
                await log.SaveAsync(new HardState(term, 2, i - 1), [entry], null, default);
            }

            await log.CompactAsync(Snapshot(10, saved[9].Term, "ten"), default);
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(11, reopened.FirstIndex);
        Assert.Equal(40, reopened.LastIndex);
        Assert.Equal(new HardState(4, 2, 39), reopened.InitialState());
        Assert.Equal(10, reopened.Snapshot!.Metadata.Index);
        Assert.Equal("ten"u8.ToArray(), reopened.Snapshot.Data.ToArray());
        Assert.Equal(saved[9].Term, reopened.Term(10));
        var back = reopened.Entries(11, 41, long.MaxValue);
        Assert.Equal(30, back.Count);
        for (var i = 0; i < back.Count; i++)
        {
            Assert.True(saved[10 + i].ContentEquals(back[i]), $"entry {11 + i}");
            Assert.Equal(saved[10 + i].Term, reopened.Term(11 + i));
        }

        // The segment data below the snapshot is still there for readers.
        Assert.Equal(1, reopened.Segments.FirstIndex);
    }

    [Fact]
    public async Task A_conflicting_suffix_replaces_the_entries_after_it_and_their_terms()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(null, [.. Enumerable.Range(1, 30).Select(i => Records(1, i))], null, default);
            Assert.True(log.Segments.Segments.Count > 1);
            await log.SaveAsync(null, [Records(3, 6), NoOp(3, 7), Records(3, 8)], null, default);
            Assert.Equal(8, log.LastIndex);
            Assert.Equal(8, log.Segments.LastIndex);
            Assert.Equal(1, log.Term(5));
            Assert.Equal(3, log.Term(6));
            Assert.Throws<RaftLogException>(() => log.Term(9));
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(8, reopened.LastIndex);
        Assert.Equal([1, 1, 1, 1, 1, 3, 3, 3], Enumerable.Range(1, 8).Select(i => reopened.Term(i)));
        Assert.True(Stored(Records(3, 8)).ContentEquals(reopened.Entries(8, 9, 0)[0]));
    }

    [Fact]
    public async Task Entries_stop_at_max_bytes_but_return_at_least_one_like_the_memory_log()
    {
        var model = new MemoryRaftLog();
        var entries = Enumerable.Range(1, 25).Select(i => Stored(i % 5 == 0 ? NoOp(1, i) : Records(1, i))).ToArray();
        model.Append(entries);
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path));
        await log.SaveAsync(null, entries, null, default);

        foreach (var maxBytes in new long[] { 0, 1, 100, 500, 1000, 3000, 10_000, long.MaxValue })
        {
            for (var lo = 1; lo <= 25; lo += 4)
            {
                var expected = model.Entries(lo, 26, maxBytes);
                var actual = log.Entries(lo, 26, maxBytes);
                Assert.Equal(expected.Count, actual.Count);
                Assert.All(expected.Zip(actual), pair => Assert.True(pair.First.ContentEquals(pair.Second)));
            }
        }

        Assert.Empty(log.Entries(4, 4, 0));
        Assert.Equal(RaftLogError.Unavailable, Assert.Throws<RaftLogException>(() => log.Entries(20, 27, long.MaxValue)).Error);
        Assert.Throws<ArgumentException>(() => log.Entries(5, 4, long.MaxValue));
    }

    [Fact]
    public async Task Data_that_is_not_a_storable_batch_is_refused_naming_the_index_and_nothing_is_written()
    {
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path));
        await log.SaveAsync(null, [Records(1, 1), Records(1, 2)], null, default);
        var size = log.Segments.Segments[^1].SizeBytes;

        var good = RecordBatch(0, 0, 1, 1_700_000_000_000, new Random(3));
        var badCrc = good.ToArray();
        badCrc[^1] ^= 0x40;
        var cases = new (byte[] Data, string Says)[]
        {
            ([1, 2, 3], "not a valid batch"),
            (good[..^1], "not a valid batch"),
            (badCrc, "CRC-32C"),
            (ControlBatch(ShardLogControlKinds.NoOp, 0, 0, []), "reserved for the log"),
            (ControlBatch(5, 0, 0, "x"u8), "kind 5"),
            (ControlBatch(15, 0, 0, new byte[300], BatchCodec.Lz4), "kind 15"),
            (EmptyControlBatch(), "empty payload"),
        };
        foreach (var (data, says) in cases)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => log.SaveAsync(null, [Records(1, 3), new Entry(1, 4, data)], null, default).AsTask());
            Assert.Contains("Entry 4", error.Message, StringComparison.Ordinal);
            Assert.Contains(says, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(2, log.LastIndex);
        Assert.Equal(size, log.Segments.Segments[^1].SizeBytes);

        // Still writable: a refusal is not a failure.
        await log.SaveAsync(null, [Records(1, 3)], null, default);
        Assert.Equal(3, log.LastIndex);
    }

    [Fact]
    public async Task Gaps_entries_inside_the_snapshot_and_lower_terms_are_refused()
    {
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path));
        await log.SaveAsync(null, [Records(2, 1), Records(2, 2), Records(2, 3)], null, default);
        await log.CompactAsync(Snapshot(2, 2), default);

        var gap = await Assert.ThrowsAsync<ArgumentException>(() => log.SaveAsync(null, [Records(2, 5)], null, default).AsTask());
        Assert.Contains("gap", gap.Message, StringComparison.Ordinal);
        var inside = await Assert.ThrowsAsync<ArgumentException>(() => log.SaveAsync(null, [Records(2, 2)], null, default).AsTask());
        Assert.Contains("inside the snapshot", inside.Message, StringComparison.Ordinal);
        var lower = await Assert.ThrowsAsync<ArgumentException>(() => log.SaveAsync(null, [Records(3, 4), Records(1, 5)], null, default).AsTask());
        Assert.Contains("Entry 5 has term 1", lower.Message, StringComparison.Ordinal);
        var skipped = await Assert.ThrowsAsync<ArgumentException>(() => log.SaveAsync(null, [Records(2, 4), Records(2, 6)], null, default).AsTask());
        Assert.Contains("not consecutive", skipped.Message, StringComparison.Ordinal);
        Assert.Equal(3, log.LastIndex);
    }

    [Fact]
    public async Task Compaction_moves_only_rafts_first_index_and_keeps_the_data_for_readers()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(null, [.. Enumerable.Range(1, 30).Select(i => Records(1 + (i / 10), i))], null, default);
            var segments = log.Segments.Segments.Count;

            await log.CompactAsync(Snapshot(20, 3), default);
            Assert.Equal(21, log.FirstIndex);
            Assert.Equal(3, log.Term(20));
            Assert.Equal(RaftLogError.Compacted, Assert.Throws<RaftLogException>(() => log.Term(19)).Error);
            Assert.Equal(RaftLogError.Compacted, Assert.Throws<RaftLogException>(() => log.Entries(20, 22, long.MaxValue)).Error);
            Assert.Equal(segments, log.Segments.Segments.Count);
            Assert.Equal(1, log.Segments.FirstIndex);
            Assert.Equal(1, log.Segments.Read(1, 0, new ArrayBufferWriter<byte>()).BatchCount);

            // Not newer than the held one: ignored. A wrong term or an index past the end: refused.
            await log.CompactAsync(Snapshot(15, 2), default);
            Assert.Equal(21, log.FirstIndex);
            await Assert.ThrowsAsync<ArgumentException>(() => log.CompactAsync(Snapshot(25, 9), default).AsTask());
            await Assert.ThrowsAsync<ArgumentException>(() => log.CompactAsync(Snapshot(31, 4), default).AsTask());
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(21, reopened.FirstIndex);
        Assert.Equal(1, reopened.Segments.FirstIndex);
        Assert.Equal(3, reopened.Term(20));
    }

    [Fact]
    public async Task A_snapshot_from_the_leader_replaces_the_whole_log_which_restarts_after_it()
    {
        var options = Options(_dir.Path, DurabilityPolicy.Always);
        var logger = new ShardLogTestLogger();
        await using (var log = await ShardRaftLog.OpenAsync(options, logger: logger))
        {
            await log.SaveAsync(new HardState(1, 1, 20), [.. Enumerable.Range(1, 30).Select(i => Records(1, i))], null, default);
            await log.SaveAsync(new HardState(5, 2, 50), [Records(5, 51), NoOp(5, 52)], Snapshot(50, 4, "leader's"), default);

            Assert.Equal(51, log.FirstIndex);
            Assert.Equal(52, log.LastIndex);
            Assert.Equal(4, log.Term(50));
            Assert.Equal(51, log.Segments.FirstIndex);
            Assert.Throws<LogCompactedException>(() => log.Segments.Read(10, 0, new ArrayBufferWriter<byte>()));
            Assert.Single(Directory.GetFiles(_dir.Path, "*.log"));
            Assert.Single(logger.Messages(2105));
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(51, reopened.FirstIndex);
        Assert.Equal(52, reopened.LastIndex);
        Assert.Equal(new HardState(5, 2, 50), reopened.InitialState());
        Assert.Equal("leader's"u8.ToArray(), reopened.Snapshot!.Data.ToArray());
        Assert.True(NoOp(5, 52).ContentEquals(reopened.Entries(52, 53, 0)[0]));
    }

    [Fact]
    public async Task An_installation_a_crash_interrupted_before_the_log_restarted_is_finished_on_open()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(1, 1, 20), [.. Enumerable.Range(1, 30).Select(i => Records(1, i))], null, default);
        }

        // The snapshot file, marked as replacing the log, reached the disk; the restart did not.
        await SnapshotFile.WriteAsync(_dir.Path, Snapshot(50, 4), restartsLog: true, fsync: false);
        var logger = new ShardLogTestLogger();
        await using var reopened = await ShardRaftLog.OpenAsync(options, logger: logger);
        Assert.Equal(51, reopened.FirstIndex);
        Assert.Equal(50, reopened.LastIndex);
        Assert.Equal(51, reopened.Segments.FirstIndex);
        Assert.Equal(4, reopened.Term(50));
        Assert.Contains("50", Assert.Single(logger.Messages(2102)), StringComparison.Ordinal);
        await reopened.SaveAsync(null, [Records(5, 51)], null, default);
    }

    [Fact]
    public async Task A_crash_inside_the_restart_that_left_no_segment_is_finished_too()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(1, 1, 5), [.. Enumerable.Range(1, 10).Select(i => Records(1, i))], null, default);
        }

        await SnapshotFile.WriteAsync(_dir.Path, Snapshot(50, 4), restartsLog: true, fsync: false);
        foreach (var file in Directory.GetFiles(_dir.Path, "*.log"))
        {
            File.Delete(file);
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(51, reopened.FirstIndex);
        Assert.Equal(50, reopened.LastIndex);
        Assert.Equal(51, reopened.Segments.FirstIndex);
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_a_commit_index_beyond_it_is_lowered()
    {
        var options = Options(_dir.Path, DurabilityPolicy.Always);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(2, 3, 0), [.. Enumerable.Range(1, 5).Select(i => Records(2, i))], null, default);
            await log.SaveAsync(new HardState(2, 3, 6), [Records(2, 6)], null, default);
        }

        // A crash in the middle of the last batch's write.
        var segment = Directory.GetFiles(_dir.Path, "*.log").Order(StringComparer.Ordinal).Last();
        var length = new FileInfo(segment).Length;
        using (var handle = File.OpenHandle(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(handle, length - 10);
        }

        var logger = new ShardLogTestLogger();
        await using var reopened = await ShardRaftLog.OpenAsync(options, logger: logger);
        Assert.Equal(5, reopened.LastIndex);
        Assert.Equal(new HardState(2, 3, 5), reopened.InitialState());
        Assert.Single(logger.Messages(2001));
        Assert.Contains("commit index 6", Assert.Single(logger.Messages(2101)), StringComparison.Ordinal);
        await reopened.SaveAsync(new HardState(2, 3, 6), [Records(2, 6)], null, default);
        Assert.Equal(6, reopened.LastIndex);
    }

    [Fact]
    public async Task A_log_that_lost_the_entries_up_to_its_snapshot_restarts_after_the_snapshot()
    {
        var options = Options(_dir.Path, segmentSizeBytes: 1 << 20);
        await using (var log = await ShardRaftLog.OpenAsync(options, logger: null))
        {
            await log.SaveAsync(null, [.. Enumerable.Range(1, 8).Select(i => Records(1, i))], null, default);
            await log.CompactAsync(Snapshot(8, 1), default);
        }

        // Under Never, a power loss took entries the snapshot file (renamed) outlived: keep 1 to 5.
        var segment = Assert.Single(Directory.GetFiles(_dir.Path, "*.log"));
        var bytes = await File.ReadAllBytesAsync(segment);
        var keep = 0;
        for (var i = 0; i < 5; i++)
        {
            keep += BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(keep));
        }

        await File.WriteAllBytesAsync(segment, bytes[..keep]);
        var logger = new ShardLogTestLogger();
        await using var reopened = await ShardRaftLog.OpenAsync(options, logger: logger);
        Assert.Equal(9, reopened.FirstIndex);
        Assert.Equal(8, reopened.LastIndex);
        Assert.Equal(9, reopened.Segments.FirstIndex);
        Assert.Single(logger.Messages(2103));
    }

    [Fact]
    public async Task A_damaged_hard_state_slot_falls_back_to_the_other()
    {
        var options = Options(_dir.Path, DurabilityPolicy.Always);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(1, 1, 0), [], null, default);
            await log.SaveAsync(new HardState(2, 3, 0), [], null, default);
        }

        // The newest write (term 2) is in slot 0 (slot 1 holds term 1): damage it.
        var path = Path.Combine(_dir.Path, HardStateFile.FileName);
        await FlipByteAsync(path, 20);
        var logger = new ShardLogTestLogger();
        await using (var log = await ShardRaftLog.OpenAsync(options, logger: logger))
        {
            Assert.Equal(new HardState(1, 1, 0), log.InitialState());
            Assert.Contains("Slot 0", Assert.Single(logger.Messages(2104)), StringComparison.Ordinal);
            await log.SaveAsync(new HardState(3, 2, 0), [], null, default);
        }

        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            Assert.Equal(new HardState(3, 2, 0), log.InitialState());
        }

        // Both damaged: refused, naming the file.
        await FlipByteAsync(path, 20);
        await FlipByteAsync(path, HardStateFile.SlotStride + 20);
        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => ShardRaftLog.OpenAsync(options));
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public async Task A_save_that_only_raises_the_commit_never_overwrites_the_durable_term_and_vote()
    {
        var options = Options(_dir.Path, DurabilityPolicy.Always);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(4, 2, 0), [], null, default);
            await log.SaveAsync(new HardState(4, 2, 0), [Records(4, 1), Records(4, 2)], null, default);
            await log.SaveAsync(new HardState(4, 2, 1), [], null, default);
            await log.SaveAsync(new HardState(4, 2, 2), [], null, default);
        }

        // The commit-only writes went to the slot that did not hold term 4's vote. Tear it: the
        // vote survives, the commit index goes back (the leader sends it again).
        var path = Path.Combine(_dir.Path, HardStateFile.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        var commitSlot = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(32)) == 2 ? 0 : HardStateFile.SlotStride;
        Assert.Equal(2, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(commitSlot + 32)));
        await FlipByteAsync(path, commitSlot + 33);
        await using var reopened = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(new HardState(4, 2, 0), reopened.InitialState());
    }

    [Fact]
    public async Task A_missing_hard_state_beside_entries_is_refused()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(new HardState(1, 1, 0), [Records(1, 1)], null, default);
        }

        File.Delete(Path.Combine(_dir.Path, HardStateFile.FileName));
        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => ShardRaftLog.OpenAsync(options));
        Assert.Contains("hard-state file is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leftover_temp_files_are_deleted_on_open()
    {
        var options = Options(_dir.Path);
        await (await ShardRaftLog.OpenAsync(options)).DisposeAsync();
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, SnapshotFile.TempFileName), [1, 2, 3]);
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, HardStateFile.TempFileName), [1, 2, 3]);

        var logger = new ShardLogTestLogger();
        await using var log = await ShardRaftLog.OpenAsync(options, logger: logger);
        Assert.Null(log.Snapshot);
        Assert.False(File.Exists(Path.Combine(_dir.Path, SnapshotFile.TempFileName)));
        Assert.False(File.Exists(Path.Combine(_dir.Path, HardStateFile.TempFileName)));
        Assert.Equal(2, logger.Messages(2109).Count);
    }

    [Fact]
    public async Task A_damaged_snapshot_file_is_refused()
    {
        var options = Options(_dir.Path);
        await using (var log = await ShardRaftLog.OpenAsync(options))
        {
            await log.SaveAsync(null, [Records(1, 1), Records(1, 2)], null, default);
            await log.CompactAsync(Snapshot(1, 1, "some state"), default);
        }

        var path = Path.Combine(_dir.Path, SnapshotFile.FileName);
        await FlipByteAsync(path, new FileInfo(path).Length - 1);
        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => ShardRaftLog.OpenAsync(options));
        Assert.Contains("CRC-32C", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_deletes_old_applied_segments_and_keeps_a_snapshot_where_raft_would_lose_entries()
    {
        var clock = new ShardLogTestClock();
        var options = Options(_dir.Path);
        var asked = new List<long>();
        await using (var log = await ShardRaftLog.OpenAsync(options, clock))
        {
            await log.SaveAsync(null, [.. Enumerable.Range(1, 40).Select(i => Records(1 + (i / 15), i, arrivalMs: clock.NowMs))], null, default);
            clock.Advance(TimeSpan.FromHours(2));
            await log.SaveAsync(null, [.. Enumerable.Range(41, 10).Select(i => Records(3, i, arrivalMs: clock.NowMs))], null, default);
            var segments = log.Segments.Segments;
            Assert.True(segments.Count > 4);

            // Only what is applied goes: up to 25, the segments wholly at or below it.
            var expected = segments.Where(s => s.LastIndex <= 25).Max(s => s.LastIndex);
            var deleted = await log.ApplyRetentionAsync(25, SnapshotAt(asked), default);
            Assert.Equal(segments.Count(s => s.LastIndex <= 25), deleted);
            Assert.Equal([expected], asked);
            Assert.Equal(expected + 1, log.FirstIndex);
            Assert.Equal(expected + 1, log.Segments.FirstIndex);
            Assert.Equal(expected, log.Snapshot!.Metadata.Index);
            Assert.Equal(1 + (expected / 15), log.Snapshot.Metadata.Term);
            Assert.Equal($"state at {expected}", System.Text.Encoding.UTF8.GetString(log.Snapshot.Data.Span));

            // A snapshot that already covers them: none taken. Recent segments stay.
            await log.CompactAsync(Snapshot(45, 3), default);
            asked.Clear();
            var more = await log.ApplyRetentionAsync(50, SnapshotAt(asked), default);
            Assert.Empty(asked);
            Assert.True(more > 0);
            Assert.Equal(45, log.Snapshot!.Metadata.Index);
            Assert.Equal(46, log.FirstIndex);
            Assert.True(log.Segments.FirstIndex <= 41);
            Assert.True(log.Segments.FirstIndex > expected + 1);
        }

        await using var reopened = await ShardRaftLog.OpenAsync(options, clock);
        Assert.Equal(46, reopened.FirstIndex);
        Assert.Equal(50, reopened.LastIndex);
    }

    [Fact]
    public async Task Retention_leaves_segments_younger_than_the_retention_and_the_active_one()
    {
        var clock = new ShardLogTestClock();
        await using var log = await ShardRaftLog.OpenAsync(Options(_dir.Path), clock);
        await log.SaveAsync(null, [.. Enumerable.Range(1, 40).Select(i => Records(1, i, arrivalMs: clock.NowMs))], null, default);
        clock.Advance(TimeSpan.FromMinutes(59));
        var asked = new List<long>();
        Assert.Equal(0, await log.ApplyRetentionAsync(40, SnapshotAt(asked), default));

        clock.Advance(TimeSpan.FromMinutes(2));
        var deleted = await log.ApplyRetentionAsync(40, SnapshotAt(asked), default);
        Assert.True(deleted > 0);
        Assert.Single(log.Segments.Segments);
        Assert.Equal(log.Segments.FirstIndex, log.FirstIndex);
        Assert.Equal(40, log.LastIndex);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ApplyRetentionAsync(41, SnapshotAt(asked), default).AsTask());
    }

    [Fact]
    public async Task Bad_options_are_refused_with_what_to_change()
    {
        var bad = new ShardRaftLogOptions
        {
            Directory = " ",
            SegmentSizeBytes = 100,
            SegmentMaxAge = TimeSpan.Zero,
            Durability = (DurabilityPolicy)9,
            Codec = (BatchCodec)7,
            Retention = TimeSpan.FromMinutes(5),
        };
        var error = Assert.Throws<ArgumentException>(bad.Validate);
        foreach (var says in new[]
        {
            "Directory is empty: set it",
            "SegmentSizeBytes is 100: set it between 4096",
            "SegmentMaxAge is 00:00:00: set it to a positive",
            "Durability is 9: set it to Always, Interval or Never",
            "Codec is 7: set it to None or Lz4",
            "Retention is 00:05:00: set it between",
        })
        {
            Assert.Contains(says, error.Message, StringComparison.Ordinal);
        }

        var interval = new ShardRaftLogOptions { Directory = _dir.Path, Durability = DurabilityPolicy.Interval, FlushInterval = TimeSpan.Zero };
        Assert.Contains("FlushInterval is 00:00:00: under Interval durability set it between 1 ms and 1 hour", Assert.Throws<ArgumentException>(interval.Validate).Message, StringComparison.Ordinal);

        // Opening checks first and touches nothing.
        var missing = Path.Combine(_dir.Path, "never-created");
        await Assert.ThrowsAsync<ArgumentException>(() => ShardRaftLog.OpenAsync(new ShardRaftLogOptions { Directory = missing, SegmentSizeBytes = 1 }));
        Assert.False(Directory.Exists(missing));
        new ShardRaftLogOptions { Directory = _dir.Path }.Validate();
    }

    [Fact]
    public async Task One_log_per_directory_and_no_writes_after_dispose()
    {
        var options = Options(_dir.Path);
        var log = await ShardRaftLog.OpenAsync(options);
        await Assert.ThrowsAsync<IOException>(() => ShardRaftLog.OpenAsync(options));
        await log.DisposeAsync();
        await log.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.SaveAsync(null, [Records(1, 1)], null, default).AsTask());
        await using var again = await ShardRaftLog.OpenAsync(options);
        Assert.Equal(0, again.LastIndex);
    }

    private static Func<long, CancellationToken, ValueTask<SnapshotContent>> SnapshotAt(List<long> asked) => (index, _) =>
    {
        asked.Add(index);
        return ValueTask.FromResult(new SnapshotContent(new ConfState([1, 2]), System.Text.Encoding.UTF8.GetBytes($"state at {index}")));
    };

    private static byte[] EmptyControlBatch()
    {
        using var builder = new BatchBuilder(128);
        builder.Reset(0, 0, BatchCodec.None, attributes: BatchAttributes.Control);
        return builder.Build().ToArray();
    }

    private static async Task FlipByteAsync(string path, long position)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[position] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes);
    }
}
