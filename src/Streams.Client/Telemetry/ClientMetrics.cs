using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Streams.Client.Telemetry;

/// <summary>
/// The SDK's instruments, on the meter <see cref="MeterName"/>: operations and their latency,
/// retries, and what producers and consumers add (records, batches, lag). One per client.
/// </summary>
internal sealed class ClientMetrics : IDisposable
{
    /// <summary>The meter's name, to subscribe to with OpenTelemetry or a <see cref="MeterListener"/>.</summary>
    public const string MeterName = "Streams.Client";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _duration;

    public ClientMetrics()
    {
        _retries = _meter.CreateCounter<long>("streams.client.retries", "{retry}", "Attempts repeated after a retryable failure.");
        _duration = _meter.CreateHistogram<double>("streams.client.operation.duration", "s", "Operations, retries included, by outcome.");
        ProducerRecords = _meter.CreateCounter<long>("streams.client.producer.records", "{record}", "Records producers completed, by outcome.");
        ProducerBatches = _meter.CreateCounter<long>("streams.client.producer.batches", "{batch}", "Batches producers sent.");
        ProducerBufferedBytes = _meter.CreateUpDownCounter<long>("streams.client.producer.buffered_bytes", "By", "Bytes of records waiting in producers or in flight.");
        ConsumerRecords = _meter.CreateCounter<long>("streams.client.consumer.records", "{record}", "Records consumers handed to the application.");
        ConsumerLag = _meter.CreateHistogram<long>("streams.client.consumer.millis_behind_latest", "ms", "How far behind the newest record each read left a consumer.");
    }

    public Counter<long> ProducerRecords { get; }

    public Counter<long> ProducerBatches { get; }

    public UpDownCounter<long> ProducerBufferedBytes { get; }

    public Counter<long> ConsumerRecords { get; }

    public Histogram<long> ConsumerLag { get; }

    public void Retried(string operation, string reason) =>
        _retries.Add(1, new TagList { { "operation", operation }, { "reason", reason } });

    public void Completed(string operation, string outcome, long startedTimestamp) =>
        _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new TagList { { "operation", operation }, { "outcome", outcome } });

    public void Dispose() => _meter.Dispose();
}
