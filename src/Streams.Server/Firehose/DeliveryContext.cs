using Streams.Client;
using Streams.Client.Retries;
using Streams.Server.Firehose.Targets;
using Streams.Server.Configuration;
using Streams.Server.Metadata.V1;

namespace Streams.Server.Firehose;

/// <summary>What the shard deliveries of one delivery stream on one node share.</summary>
internal sealed class DeliveryContext
{
    /// <summary>The client the worker reads, joins and checkpoints through (its own node).</summary>
    public required StreamsClient Client { get; init; }

    /// <summary>The delivery stream's format, prefixes and buffering.</summary>
    public required DeliverySettings Settings { get; init; }

    /// <summary>Where objects go.</summary>
    public required DeliveryTarget Target { get; init; }

    /// <summary>The stream read.</summary>
    public required string SourceStreamName { get; init; }

    /// <summary>The consumer group the nodes' workers share.</summary>
    public required string GroupName { get; init; }

    /// <summary>This worker's member id in the group.</summary>
    public required string MemberId { get; init; }

    /// <summary>This node's id, reported as the shard's worker.</summary>
    public required string NodeId { get; init; }

    /// <summary>Sends a progress report to the controller.</summary>
    public required Func<DeliveryProgressCommand, CancellationToken, Task> Report { get; init; }

    /// <summary>
    /// Leaves the group through the controller directly, not through this node's API: a node that
    /// is stopping may no longer take calls, yet its workers should hand their shards over at once.
    /// </summary>
    public required Func<CancellationToken, Task> Leave { get; init; }

    /// <summary>The node's Firehose instruments.</summary>
    public required DeliveryMetrics Metrics { get; init; }

    /// <summary>The worker's tunables.</summary>
    public required FirehoseOptions Options { get; init; }

    /// <summary>Where deliveries log.</summary>
    public required ILogger Logger { get; init; }

    /// <summary>The clock for buffering intervals and backoff.</summary>
    public required TimeProvider Time { get; init; }

    /// <summary>Backoff between failed uploads and calls.</summary>
    public RetryPolicy Backoff { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

    /// <summary>The wait before retry number <paramref name="failures"/> (1 for the first).</summary>
    /// <param name="failures">Failures in a row so far.</param>
    public TimeSpan BackoffAfter(int failures) => Backoff.DelayBefore(Math.Max(0, failures - 1), Random.Shared.NextDouble());
}
