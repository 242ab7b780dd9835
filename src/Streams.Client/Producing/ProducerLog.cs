using Microsoft.Extensions.Logging;

namespace Streams.Client.Producing;

/// <summary>The producer's log messages.</summary>
internal static partial class ProducerLog
{
    [LoggerMessage(201, LogLevel.Debug, "Batch {Sequence} of {Records} records to {Shard} (producer {ProducerId}) failed: {Error}; retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, long sequence, int records, string shard, ulong producerId, string error, double delayMs);

    [LoggerMessage(202, LogLevel.Debug, "Batch {Sequence} to {Shard} (producer {ProducerId}, attempt {Attempts}) was refused as out of order ({Reason}); it goes again after the batches before it")]
    public static partial void OutOfOrder(ILogger logger, long sequence, string shard, ulong producerId, int attempts, string reason);

    [LoggerMessage(203, LogLevel.Warning, "Producer {ProducerId} of shard {Shard} cannot go on with its sequence ({Reason}); its waiting batches go again under a new producer id")]
    public static partial void StartingOver(ILogger logger, ulong producerId, string shard, string reason);

    [LoggerMessage(204, LogLevel.Information, "Shard {Shard} of stream {Stream} is closed (split or merged): {Records} records waiting for it are routed to {Targets}")]
    public static partial void Rerouted(ILogger logger, string shard, string stream, int records, string targets);

    [LoggerMessage(205, LogLevel.Warning, "{Records} records to {Shard} of stream {Stream} were refused: {Error}")]
    public static partial void Refused(ILogger logger, int records, string shard, string stream, string error);

    [LoggerMessage(206, LogLevel.Warning, "Could not read the shard map of stream {Stream} to route records; retrying in {DelayMs} ms")]
    public static partial void MapFailed(ILogger logger, string stream, double delayMs, Exception exception);

    [LoggerMessage(207, LogLevel.Warning, "Producer of stream {Stream} disposed with {Records} records unacknowledged after waiting {Timeout}; they fail")]
    public static partial void DisposedWithRecords(ILogger logger, string stream, int records, TimeSpan timeout);

    [LoggerMessage(208, LogLevel.Debug, "Producer of stream {Stream} routes by a shard map of {OpenShards} open shards")]
    public static partial void MapApplied(ILogger logger, string stream, int openShards);

    [LoggerMessage(209, LogLevel.Warning, "Shard {Shard} of stream {Stream} refused a batch as invalid and is open in the shard map: the batch's {Records} records fail")]
    public static partial void SuspectRefused(ILogger logger, string shard, string stream, int records);
}
