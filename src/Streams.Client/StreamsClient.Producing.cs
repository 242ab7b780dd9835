using Streams.Client.Api;
using Streams.Client.Producing;
using Streams.Client.Routing;
using Streams.Rpc;
using Streams.Rpc.Client;

namespace Streams.Client;

// What the producer needs of the client: PutRecords of a pre-encoded batch, sent to its shard's leader.
public sealed partial class StreamsClient
{
    // PutRecords on the wire, with the request written from a batch's pooled buffer and the response
    // read without a message object per record.
    private static readonly Method<ProducerBatch, BatchAcknowledgement> _putBatch =
        new(MethodType.Unary, StreamsMethods.ServiceName, "PutRecords", new PutBatchMarshaller(), new BatchAcknowledgementMarshaller(produce: false));

    // Produce on the wire, the same way.
    private static readonly Method<ProducerBatch, BatchAcknowledgement> _produceBatches =
        new(MethodType.DuplexStreaming, StreamsMethods.ServiceName, "Produce", new ProduceBatchMarshaller(), new BatchAcknowledgementMarshaller(produce: true));

    /// <summary>A producer of <paramref name="options"/>' stream through this client (the same as <c>new Producer(client, options)</c>).</summary>
    /// <param name="options">The producer's settings; validated here.</param>
    public Producer CreateProducer(ProducerOptions options) => new(this, options);

    /// <summary>
    /// PutRecords of <paramref name="batch"/> (stream, producer id and sequence as the batch says),
    /// sent to the leader of <paramref name="shardId"/> and retried like any call. A retry repeats the
    /// same producer id and sequence, so that an idempotent batch lands once.
    /// </summary>
    internal Task<BatchAcknowledgement> PutBatchAsync(ProducerBatch batch, string streamName, string shardId, CancellationToken cancellationToken) =>
        CallAsync(_putBatch, batch, RequestRoute.ToShard(streamName, shardId), cancellationToken);

    /// <summary>Opens a Produce stream to <paramref name="address"/>; it lasts until cancelled or broken.</summary>
    internal AsyncDuplexStreamingCall<ProducerBatch, BatchAcknowledgement> OpenProduceStream(Uri address, CancellationToken cancellationToken) =>
        ChannelFor(address).DuplexStreamingCall(_produceBatches, new CallOptions { CancellationToken = cancellationToken });

    /// <summary>
    /// Where a batch of <paramref name="shardId"/> goes on its <paramref name="attempt"/>-th try: the
    /// shard's leader from the cached map; from the third try on, the configured endpoints in turn
    /// (any node forwards), in case the map names an unreachable or stale leader.
    /// </summary>
    internal async ValueTask<Uri> ProduceTargetAsync(string streamName, string shardId, int attempt, CancellationToken cancellationToken)
    {
        if (attempt < 3 && Options.RouteToShardLeaders)
        {
            var map = await GetShardMapAsync(streamName, cancellationToken).ConfigureAwait(false);
            if (map.Find(shardId)?.LeaderAddress is { } leader)
            {
                return leader;
            }
        }

        return Options.Endpoints[(int)((uint)(Volatile.Read(ref _seed) + attempt) % (uint)Options.Endpoints.Count)];
    }

    /// <summary>Records a Produce batch's answer time on the operation duration histogram, as calls are.</summary>
    internal void ProduceAnswered(string outcome, long sentTimestamp) => Metrics.Completed("Produce", outcome, sentTimestamp);
}
