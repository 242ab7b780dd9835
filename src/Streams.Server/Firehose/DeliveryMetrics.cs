using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Streams.Server.Api;

namespace Streams.Server.Firehose;

/// <summary>
/// The node's Firehose instruments (meter <c>Streams.Server</c>): objects, records and bytes
/// delivered, records sent to the error output and failed uploads, and per shard this node
/// delivers its lag in milliseconds and records. Tagged with delivery_stream and shard.
/// </summary>
internal sealed class DeliveryMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _objects;
    private readonly Counter<long> _records;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _recordsFailed;
    private readonly Counter<long> _uploadFailures;
    private readonly ConcurrentDictionary<ShardDelivery, TagList> _active = new();

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The node's meter factory.</param>
    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(StreamsApiMetrics.MeterName);
        _objects = _meter.CreateCounter<long>("streams.firehose.objects", "{object}", "Objects a delivery stream wrote (error objects included).");
        _records = _meter.CreateCounter<long>("streams.firehose.records", "{record}", "Records a delivery stream wrote to objects.");
        _bytes = _meter.CreateCounter<long>("streams.firehose.bytes", "By", "Bytes of objects a delivery stream wrote (after compression).");
        _recordsFailed = _meter.CreateCounter<long>("streams.firehose.records.failed", "{record}", "Records written to the error output instead.");
        _uploadFailures = _meter.CreateCounter<long>("streams.firehose.upload.failures", "{upload}", "Object writes that failed and were retried.");
        _meter.CreateObservableGauge("streams.firehose.lag", () => Observe(d => d.LagMillis), "ms", "Age of the oldest record of a shard this node delivers that is not delivered yet.");
        _meter.CreateObservableGauge("streams.firehose.lag.records", () => Observe(d => d.LagRecords), "{record}", "Records of a shard this node delivers read and not yet delivered.");
    }

    /// <summary>Counts a buffer written.</summary>
    /// <param name="counters">What was written.</param>
    /// <param name="tags">The delivery stream and shard.</param>
    public void Delivered(DeliveryCounters counters, in TagList tags)
    {
        _objects.Add(counters.Objects, tags);
        _records.Add(counters.Records, tags);
        _bytes.Add(counters.Bytes, tags);
        if (counters.RecordsFailed > 0)
        {
            _recordsFailed.Add(counters.RecordsFailed, tags);
        }
    }

    /// <summary>Counts an upload that failed.</summary>
    /// <param name="tags">The delivery stream and shard.</param>
    public void UploadFailed(in TagList tags) => _uploadFailures.Add(1, tags);

    /// <summary>Observes a shard delivery's lag until <see cref="Forget"/>.</summary>
    /// <param name="delivery">The delivery.</param>
    /// <param name="deliveryStreamName">Its delivery stream.</param>
    public void Track(ShardDelivery delivery, string deliveryStreamName) =>
        _active[delivery] = new TagList { { "delivery_stream", deliveryStreamName }, { "shard", delivery.ShardId } };

    /// <summary>Stops observing a shard delivery.</summary>
    /// <param name="delivery">The delivery.</param>
    public void Forget(ShardDelivery delivery) => _active.TryRemove(delivery, out _);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> Observe(Func<ShardDelivery, long> value) =>
        _active.Select(pair => new Measurement<long>(value(pair.Key), pair.Value));
}
