using System.Diagnostics.Metrics;
using Streams.Client;

namespace Streams.Load.ClusterBench;

/// <summary>
/// Listens to the SDK's meter during one producer run: records acknowledged and failed, batch
/// attempts by outcome, and how long each batch took to be answered (PutRecords call or Produce batch).
/// </summary>
internal sealed class ProducerMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly List<double> _callSeconds = [];
    private long _records;
    private long _failed;
    private long _batches;
    private long _outOfOrder;
    private long _retried;

    public ProducerMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == StreamsClient.MeterName
                && instrument.Name is "streams.client.producer.records" or "streams.client.producer.batches" or "streams.client.operation.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var outcome = Tag(tags, "outcome");
            if (instrument.Name == "streams.client.producer.records")
            {
                Interlocked.Add(ref outcome == "ok" ? ref _records : ref _failed, value);
                return;
            }

            Interlocked.Add(ref _batches, value);
            if (outcome == "out_of_order")
            {
                Interlocked.Add(ref _outOfOrder, value);
            }
            else if (outcome is "retry" or "partial")
            {
                Interlocked.Add(ref _retried, value);
            }
        });
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (Tag(tags, "operation") is "PutRecords" or "Produce")
            {
                lock (_lock)
                {
                    _callSeconds.Add(value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Records acknowledged and failed, batch attempts (all, refused as out of order, retried), and PutRecords call p50/p99 in ms.</summary>
    public (long Records, long Failed, long Batches, long OutOfOrder, long Retried, double P50Ms, double P99Ms) Read()
    {
        _listener.RecordObservableInstruments();
        double[] calls;
        lock (_lock)
        {
            calls = [.. _callSeconds];
        }

        Array.Sort(calls);
        return (Interlocked.Read(ref _records), Interlocked.Read(ref _failed), Interlocked.Read(ref _batches), Interlocked.Read(ref _outOfOrder), Interlocked.Read(ref _retried),
            Rank(calls, 0.50) * 1000, Rank(calls, 0.99) * 1000);
    }

    public void Dispose() => _listener.Dispose();

    private static double Rank(double[] sorted, double quantile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
