namespace Streams.Server.Firehose.Targets;

/// <summary>Delivery target log lines. Event ids are stable: 4100-4199 delivery targets.</summary>
internal static partial class S3TargetLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Could not abort multipart upload {UploadId} of '{Key}' to {Target}: {Detail}. Its parts stay stored (and billed on AWS) until aborted; a bucket lifecycle rule for incomplete multipart uploads removes them")]
    public static partial void AbortFailed(ILogger logger, string uploadId, string key, string target, string detail);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Uploaded '{Key}' to {Target} in {Parts} parts ({Bytes} bytes)")]
    public static partial void MultipartUploaded(ILogger logger, string key, string target, int parts, long bytes);
}
