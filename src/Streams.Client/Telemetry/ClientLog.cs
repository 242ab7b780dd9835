using Microsoft.Extensions.Logging;
using Streams.Rpc;

namespace Streams.Client.Telemetry;

/// <summary>The SDK's log messages.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(1, LogLevel.Debug, "{Operation} attempt {Attempt} to {Endpoint} failed with {Status} ({ErrorCode}); retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string operation, int attempt, Uri endpoint, StatusCode status, string errorCode, double delayMs);

    [LoggerMessage(2, LogLevel.Debug, "Shard map of stream {Stream} refreshed: {OpenShards} open shards, {Shards} in all")]
    public static partial void ShardMapRefreshed(ILogger logger, string stream, int openShards, int shards);

    [LoggerMessage(3, LogLevel.Warning, "Could not refresh the shard map of stream {Stream}; requests go through the configured endpoints meanwhile")]
    public static partial void ShardMapFailed(ILogger logger, string stream, Exception exception);
}
