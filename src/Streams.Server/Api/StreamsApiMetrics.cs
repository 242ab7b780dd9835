using System.Diagnostics;
using System.Diagnostics.Metrics;
using Google.Protobuf.Collections;
using Streams.Server.Cluster;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// The node's data-plane metrics (meter <c>Streams.Server</c>): records and bytes written and read
/// per stream, put and get latency, per shard replica its commit lag and segment bytes, and consumer
/// groups' checkpoints and fenced calls. Raft's own term and leader changes come from the
/// <c>Streams.Raft</c> meter.
/// </summary>
internal sealed class StreamsApiMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Streams.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _recordsIn;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _recordsOut;
    private readonly Counter<long> _bytesOut;
    private readonly Counter<long> _failedRecords;
    private readonly Histogram<double> _putDuration;
    private readonly Histogram<double> _getDuration;
    private readonly Counter<long> _checkpoints;
    private readonly Counter<long> _leasesLost;

    /// <summary>Creates the instruments.</summary>
    public StreamsApiMetrics(IMeterFactory meterFactory, StreamsCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _recordsIn = _meter.CreateCounter<long>("streams.records.in", "{record}", "Records written (acknowledged), per stream.");
        _bytesIn = _meter.CreateCounter<long>("streams.bytes.in", "By", "Bytes of record data written (acknowledged), per stream.");
        _recordsOut = _meter.CreateCounter<long>("streams.records.out", "{record}", "Records returned by GetRecords, per stream.");
        _bytesOut = _meter.CreateCounter<long>("streams.bytes.out", "By", "Bytes of record data returned by GetRecords, per stream.");
        _failedRecords = _meter.CreateCounter<long>("streams.records.failed", "{record}", "Records a put reported as failed, per stream.");
        _putDuration = _meter.CreateHistogram("streams.put.duration", "s", "Time from receiving a put (PutRecord, PutRecords, a Produce batch) to its answer.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _getDuration = _meter.CreateHistogram("streams.get.duration", "s", "Time to serve GetRecords.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _checkpoints = _meter.CreateCounter<long>("streams.consumer.checkpoints", "{checkpoint}", "Checkpoints stored by consumer groups, per stream.");
        _leasesLost = _meter.CreateCounter<long>("streams.consumer.leases.lost", "{call}", "Consumer calls refused with LeaseLostException (a fenced or expired member), per stream.");
        _meter.CreateObservableGauge("streams.shard.commit.lag", () => ShardGauge(cluster, r => r.Group.Status.LastIndex - r.Group.Status.CommitIndex), "{entry}", "Entries a shard replica holds but knows no majority holds yet.");
        _meter.CreateObservableGauge("streams.shard.segment.bytes", () => ShardGauge(cluster, r => r.Log.Segments.Segments.Sum(s => s.SizeBytes)), "By", "Bytes of a shard replica's segment files.");
    }

    private static double[] LatencyBuckets { get; } = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

    /// <summary>A timestamp for a duration.</summary>
    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>Counts a put's records and its latency.</summary>
    public void RecordPut(string stream, PutRecordsResponse response, IReadOnlyList<PutRecordsRequestEntry> records, long started)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(records);
        var tag = new KeyValuePair<string, object?>("stream", stream);
        long written = 0;
        long bytes = 0;
        for (var i = 0; i < response.Records.Count; i++)
        {
            if (response.Records[i].ErrorCode.Length == 0)
            {
                written++;
                bytes += records[i].Data.Length;
            }
        }

        _recordsIn.Add(written, tag);
        _bytesIn.Add(bytes, tag);
        if (response.FailedRecordCount > 0)
        {
            _failedRecords.Add(response.FailedRecordCount, tag);
        }

        _putDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
    }

    /// <summary>Counts a read's records and its latency.</summary>
    public void RecordGet(string stream, RepeatedField<Record> records, long started)
    {
        ArgumentNullException.ThrowIfNull(records);
        var tag = new KeyValuePair<string, object?>("stream", stream);
        _recordsOut.Add(records.Count, tag);
        _bytesOut.Add(records.Sum(r => (long)r.Data.Length), tag);
        _getDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
    }

    /// <summary>Counts a stored checkpoint.</summary>
    public void RecordCheckpoint(string stream) => _checkpoints.Add(1, new KeyValuePair<string, object?>("stream", stream));

    /// <summary>Counts a consumer call refused because the member lost its lease or its membership.</summary>
    public void RecordLeaseLost(string stream) => _leasesLost.Add(1, new KeyValuePair<string, object?>("stream", stream));

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> ShardGauge(StreamsCluster cluster, Func<Shards.ShardReplica, long> value)
    {
        if (cluster.Shards is not { } shards)
        {
            yield break;
        }

        foreach (var replica in shards.All)
        {
            yield return new Measurement<long>(value(replica), new KeyValuePair<string, object?>("stream", replica.Identity.StreamName), new KeyValuePair<string, object?>("shard", replica.Identity.ShardId));
        }
    }
}
