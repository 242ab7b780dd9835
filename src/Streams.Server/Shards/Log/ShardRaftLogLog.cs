namespace Streams.Server.Shards.Log;

/// <summary>The shard Raft log's log messages (event ids 2100-2199, beside the segment log's 2000-2099).</summary>
internal static partial class ShardRaftLogLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Opened the shard Raft log {Directory}: Raft entries {FirstIndex} to {LastIndex}, segment data from {SegmentFirstIndex}, snapshot at {SnapshotIndex}, term {Term}, vote {Vote}, commit {Commit}")]
    public static partial void Opened(ILogger logger, string directory, long firstIndex, long lastIndex, long segmentFirstIndex, long snapshotIndex, long term, long vote, long commit);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "The hard state's commit index {Commit} is beyond the last index {LastIndex} (entries not yet durable were lost, or a torn tail was cut): starting from commit {LastIndex}; the leader tells the rest again")]
    public static partial void CommitClamped(ILogger logger, long commit, long lastIndex);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Finished installing the snapshot at {SnapshotIndex} that a crash interrupted: the log restarts at {FirstIndex}")]
    public static partial void InstallationFinished(ILogger logger, long snapshotIndex, long firstIndex);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "The log ends at {LastIndex}, before the snapshot at {SnapshotIndex} (entries not yet durable were lost in a crash): it restarts at {FirstIndex}")]
    public static partial void LogBehindSnapshot(ILogger logger, long lastIndex, long snapshotIndex, long firstIndex);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Slot {Slot} of {FilePath} is damaged ({Reason}); using slot {UsedSlot} (write {Sequence})")]
    public static partial void HardStateSlotDamaged(ILogger logger, string filePath, int slot, string reason, int usedSlot, long sequence);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Installed the leader's snapshot at {Index} (term {Term}, {Bytes} bytes): the log restarts at {FirstIndex}")]
    public static partial void SnapshotInstalled(ILogger logger, long index, long term, int bytes, long firstIndex);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug, Message = "Compacted behind a snapshot at {Index}: Raft entries now start at {FirstIndex}; segment data before it stays for readers")]
    public static partial void Compacted(ILogger logger, long index, long firstIndex);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Retention deletes entries up to {Index}, past the snapshot at {HeldIndex}: took a snapshot at {Index} first")]
    public static partial void RetentionSnapshotTaken(ILogger logger, long index, long heldIndex);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Information, Message = "Retention deleted {Count} segment(s) up to index {Index}: the log starts at {FirstIndex}")]
    public static partial void RetentionApplied(ILogger logger, int count, long index, long firstIndex);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Warning, Message = "Deleted {FilePath}, left by a write a crash interrupted")]
    public static partial void LeftoverDeleted(ILogger logger, string filePath);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Error, Message = "A write to the shard Raft log {Directory} failed: it refuses writes until reopened")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string directory);
}
