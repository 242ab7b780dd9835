using Microsoft.Extensions.Logging;
using Streams.Rpc;

namespace Streams.Client.Consuming;

/// <summary>The consumer's log messages (event ids 100-129).</summary>
internal static partial class ConsumerLog
{
    [LoggerMessage(100, LogLevel.Information, "Consumer {MemberId} joined group {Group} of stream {Stream}: {Leases} lease(s), session timeout {SessionTimeoutMs} ms, heartbeat every {HeartbeatIntervalMs} ms")]
    public static partial void Joined(ILogger logger, string memberId, string group, string stream, int leases, double sessionTimeoutMs, double heartbeatIntervalMs);

    [LoggerMessage(101, LogLevel.Warning, "Consumer {MemberId} could not join group {Group} of stream {Stream} ({Status} {ErrorCode}); trying again in {DelayMs} ms")]
    public static partial void JoinFailed(ILogger logger, string memberId, string group, string stream, StatusCode status, string errorCode, double delayMs, Exception exception);

    [LoggerMessage(102, LogLevel.Information, "Consumer {MemberId} leased shard {ShardId} at epoch {Epoch}, reading from {Position} {SequenceNumber}")]
    public static partial void LeaseAcquired(ILogger logger, string memberId, string shardId, long epoch, string position, string sequenceNumber);

    [LoggerMessage(103, LogLevel.Information, "Consumer {MemberId} stopped reading shard {ShardId} (epoch {Epoch}): {Reason}")]
    public static partial void ReaderStopped(ILogger logger, string memberId, string shardId, long epoch, ShardReaderStop reason);

    [LoggerMessage(104, LogLevel.Warning, "Consumer {MemberId}: heartbeat failed ({Reason}); it stops reading in {RemainingMs} ms unless one succeeds")]
    public static partial void HeartbeatFailed(ILogger logger, string memberId, string reason, double remainingMs);

    [LoggerMessage(105, LogLevel.Warning, "Consumer {MemberId}: no heartbeat acknowledged for {SilentMs} ms, close to the session timeout ({SessionTimeoutMs} ms); stopping every reader before its shards can go to another member")]
    public static partial void Fenced(ILogger logger, string memberId, double silentMs, double sessionTimeoutMs);

    [LoggerMessage(106, LogLevel.Warning, "Consumer {MemberId} is no longer a member of group {Group} ({Message}); joining again")]
    public static partial void Rejoining(ILogger logger, string memberId, string group, string message);

    [LoggerMessage(107, LogLevel.Information, "Consumer {MemberId} read shard {ShardId} to its end and released it; its children become leasable")]
    public static partial void ShardEnded(ILogger logger, string memberId, string shardId);

    [LoggerMessage(108, LogLevel.Debug, "Consumer {MemberId} checkpointed shard {ShardId} at {SequenceNumber} (epoch {Epoch})")]
    public static partial void Checkpointed(ILogger logger, string memberId, string shardId, string sequenceNumber, long epoch);

    [LoggerMessage(109, LogLevel.Warning, "Consumer {MemberId}: checkpoint of shard {ShardId} refused, the lease moved on: {Message}")]
    public static partial void CheckpointRefused(ILogger logger, string memberId, string shardId, string message);

    [LoggerMessage(110, LogLevel.Warning, "Consumer {MemberId} could not checkpoint shard {ShardId} at {SequenceNumber}; it tries again later")]
    public static partial void CheckpointFailed(ILogger logger, string memberId, string shardId, string sequenceNumber, Exception exception);

    [LoggerMessage(111, LogLevel.Warning, "Consumer {MemberId} could not read shard {ShardId} ({Status} {ErrorCode}); trying again in {DelayMs} ms")]
    public static partial void ReadFailed(ILogger logger, string memberId, string shardId, StatusCode status, string errorCode, double delayMs);

    [LoggerMessage(112, LogLevel.Debug, "Consumer {MemberId}: the iterator of shard {ShardId} expired; resuming after {SequenceNumber}")]
    public static partial void IteratorExpired(ILogger logger, string memberId, string shardId, string sequenceNumber);

    [LoggerMessage(113, LogLevel.Warning, "Consumer {MemberId}: the checkpoint {SequenceNumber} of shard {ShardId} is no longer in the shard (retention trimmed it); reading from the oldest record held")]
    public static partial void CheckpointTrimmed(ILogger logger, string memberId, string shardId, string sequenceNumber);

    [LoggerMessage(114, LogLevel.Error, "Consumer {MemberId} stops: shard {ShardId} failed")]
    public static partial void ReaderFailed(ILogger logger, string memberId, string shardId, Exception exception);

    [LoggerMessage(115, LogLevel.Information, "Consumer {MemberId} left group {Group} of stream {Stream}")]
    public static partial void Left(ILogger logger, string memberId, string group, string stream);

    [LoggerMessage(116, LogLevel.Warning, "Consumer {MemberId} could not finish its graceful stop ({Step}); the server expires its session instead")]
    public static partial void StopStepFailed(ILogger logger, string memberId, string step, Exception exception);

    [LoggerMessage(117, LogLevel.Warning, "Consumer {MemberId}: handlers did not finish within the shutdown timeout ({TimeoutMs} ms); leaving without their last checkpoints")]
    public static partial void StopTimedOut(ILogger logger, string memberId, double timeoutMs);

    [LoggerMessage(118, LogLevel.Debug, "Consumer {MemberId}: group {Group} generation {Generation}, {Leases} lease(s)")]
    public static partial void LeasesReceived(ILogger logger, string memberId, string group, long generation, int leases);
}
