using Microsoft.Extensions.Logging;

namespace Streams.Storage.Segments;

/// <summary>The segment log's log messages (event ids 2000-2099).</summary>
internal static partial class SegmentLogLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Opened segment log {Directory}: {SegmentCount} segment(s), batches {FirstIndex} to {LastIndex}, durability {Durability}")]
    public static partial void Opened(ILogger logger, string directory, int segmentCount, long firstIndex, long lastIndex, DurabilityPolicy durability);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Torn tail in {FilePath}: cut {BytesCut} byte(s) at position {Position}, after the last whole batch (index {LastIndex}): {Reason}")]
    public static partial void TornTailCut(ILogger logger, string filePath, long bytesCut, long position, long lastIndex, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Rebuilt the indexes of {FilePath} from the log: {Reason}")]
    public static partial void IndexesRebuilt(ILogger logger, string filePath, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Rolled segment {FilePath} after index {LastIndex} ({Reason}); the next segment starts at index {NextIndex}")]
    public static partial void Rolled(ILogger logger, string filePath, long lastIndex, RollReason reason, long nextIndex);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Deleted segment {FilePath} (batches {BaseIndex} to {LastIndex}, {SizeBytes} bytes): {Reason}")]
    public static partial void SegmentDeleted(ILogger logger, string filePath, long baseIndex, long lastIndex, long sizeBytes, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Truncated the log after index {Index}: removed batches {FirstRemoved} to {LastRemoved}")]
    public static partial void Truncated(ILogger logger, long index, long firstRemoved, long lastRemoved);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Critical, Message = "fsync of {FilePath} failed: the log accepts no more appends until it is reopened")]
    public static partial void FlushFailed(ILogger logger, Exception exception, string filePath);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Deleted index file {FilePath}: no segment log file is beside it")]
    public static partial void OrphanIndexDeleted(ILogger logger, string filePath);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "The log held no batch; it now starts at index {Index}")]
    public static partial void Restarted(ILogger logger, long index);
}
