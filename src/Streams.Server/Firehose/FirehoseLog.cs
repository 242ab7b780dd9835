namespace Streams.Server.Firehose;

/// <summary>The delivery workers' log messages.</summary>
internal static partial class FirehoseLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: worker starting (source {Source}, destination {Destination}, version {Version}).")]
    public static partial void WorkerStarting(ILogger logger, string deliveryStream, string source, string destination, long version);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: worker stopping ({Reason}).")]
    public static partial void WorkerStopping(ILogger logger, string deliveryStream, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: cannot join its group ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void JoinFailed(ILogger logger, string deliveryStream, string reason, double delayMs);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: delivering {ShardId} at epoch {Epoch} after '{Checkpoint}' (pending '{Pending}').")]
    public static partial void ShardStarted(ILogger logger, string deliveryStream, string shardId, long epoch, string checkpoint, string pending);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: lease on {ShardId} at epoch {Epoch} lost; its next holder goes on from the checkpoint.")]
    public static partial void LeaseLost(ILogger logger, string deliveryStream, string shardId, long epoch);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: {ShardId} delivered to its end.")]
    public static partial void ShardEnded(ILogger logger, string deliveryStream, string shardId);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Debug, Message = "Delivery stream {DeliveryStream}: {ShardId} delivered {Records} record(s) in {Bytes} bytes up to {Last}.")]
    public static partial void Delivered(ILogger logger, string deliveryStream, string shardId, long records, long bytes, string last);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: writing {Key} for {ShardId} failed ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void UploadFailed(ILogger logger, string deliveryStream, string shardId, string key, string reason, double delayMs);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: reading {ShardId} failed ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void ReadFailed(ILogger logger, string deliveryStream, string shardId, string reason, double delayMs);

    [LoggerMessage(EventId = 7013, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: checkpoint of {ShardId} failed ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void CheckpointFailed(ILogger logger, string deliveryStream, string shardId, string reason, double delayMs);

    [LoggerMessage(EventId = 7014, Level = LogLevel.Debug, Message = "Delivery stream {DeliveryStream}: progress report for {ShardId} failed ({Reason}); it goes with the next.")]
    public static partial void ReportFailed(ILogger logger, string deliveryStream, string shardId, string reason);

    [LoggerMessage(EventId = 7015, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: the pending object of {ShardId} ended at {Pending}, but the next record read is {Next} (trimmed by retention?); writing what is left.")]
    public static partial void PendingRecordMissing(ILogger logger, string deliveryStream, string shardId, string pending, string next);

    [LoggerMessage(EventId = 7016, Level = LogLevel.Error, Message = "Delivery stream {DeliveryStream}: delivery of {ShardId} failed; it starts again with the next heartbeat.")]
    public static partial void ShardFailed(ILogger logger, string deliveryStream, string shardId, Exception exception);

    [LoggerMessage(EventId = 7017, Level = LogLevel.Warning, Message = "Delivery stream {DeliveryStream}: leaving the group failed ({Reason}); its shards move to other nodes when the session expires instead.")]
    public static partial void LeaveFailed(ILogger logger, string deliveryStream, string reason);

    [LoggerMessage(EventId = 7018, Level = LogLevel.Information, Message = "Delivery stream {DeliveryStream}: {ShardId} is gone ({Reason}); waiting for the source stream.")]
    public static partial void SourceMissing(ILogger logger, string deliveryStream, string shardId, string reason);
}
