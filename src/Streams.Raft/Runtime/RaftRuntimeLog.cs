using Microsoft.Extensions.Logging;

namespace Streams.Raft.Runtime;

/// <summary>The Raft runtime's log messages (event ids 3000-3099). Nothing is logged per entry or message, and a group's routine events (start, stop, new leader) are Debug: a node hosts thousands of groups.</summary>
internal static partial class RaftRuntimeLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Debug, Message = "Raft group {GroupId} started on node {NodeId}: term {Term}, commit {CommitIndex}, applied {AppliedIndex}, last index {LastIndex}, snapshot at {SnapshotIndex}")]
    public static partial void GroupStarted(ILogger logger, long groupId, long nodeId, long term, long commitIndex, long appliedIndex, long lastIndex, long snapshotIndex);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Critical, Message = "Raft group {GroupId} on node {NodeId} stopped after a failure; its pending requests failed and it must be restarted from its storage")]
    public static partial void GroupFailed(ILogger logger, Exception exception, long groupId, long nodeId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Raft group {GroupId} stopped on node {NodeId}")]
    public static partial void GroupStopped(ILogger logger, long groupId, long nodeId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Raft group {GroupId} on node {NodeId}: leader is now node {Leader} in term {Term}")]
    public static partial void LeaderChanged(ILogger logger, long groupId, long nodeId, long leader, long term);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Raft group {GroupId} on node {NodeId}: snapshot at index {Index} ({SizeBytes} bytes), log compacted")]
    public static partial void SnapshotTaken(ILogger logger, long groupId, long nodeId, long index, int sizeBytes);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Raft group {GroupId} on node {NodeId}: state restored from a snapshot at index {Index} ({SizeBytes} bytes)")]
    public static partial void SnapshotRestored(ILogger logger, long groupId, long nodeId, long index, int sizeBytes);
}
