using System.Diagnostics;

namespace Streams.Load.ClusterBench;

/// <summary>Where the clients send: any node (round robin; it forwards to the shard's leader), or each shard's leader.</summary>
internal enum Target
{
    AnyNode,
    Leader,
}

/// <summary>What one throughput run (PutRecords or Produce, closed loop) produced.</summary>
/// <param name="RecordsPerSecond">Records acknowledged as written, per second of the run.</param>
/// <param name="MegabytesPerSecond">Their data bytes (10^6 B) per second (partition keys not counted).</param>
/// <param name="BatchP50Ms">Median time from sending a batch to its answer, ms.</param>
/// <param name="BatchP99Ms">99th percentile of the same, ms.</param>
/// <param name="Records">Records acknowledged.</param>
/// <param name="FailedRecords">Records that failed (per record, or in a refused batch).</param>
/// <param name="FailedCalls">Calls or streams that failed as a whole.</param>
/// <param name="Misrouted">Leader runs: batches written to another shard than the one the client routed them to.</param>
/// <param name="Seconds">From the first send to the last answer.</param>
/// <param name="Cpu">CPU used by the nodes and by this process.</param>
internal sealed record ThroughputRun(
    double RecordsPerSecond, double MegabytesPerSecond, double BatchP50Ms, double BatchP99Ms,
    long Records, long FailedRecords, long FailedCalls, long Misrouted, double Seconds, CpuShare Cpu);

/// <summary>What one run of the SDK's producer produced: its throughput, and how its batches went.</summary>
/// <param name="Throughput">Records acknowledged per second and the rest, as for PutRecords (batch p50/p99 are its PutRecords calls).</param>
/// <param name="Batches">Batch attempts answered (PutRecords calls the producer made).</param>
/// <param name="OutOfOrder">Attempts a shard refused as out of order (a later batch overtook an earlier one on its way): sent again.</param>
/// <param name="Retried">Attempts retried after a failure without a verdict (no leader, throttled).</param>
internal sealed record ProducerRun(ThroughputRun Throughput, long Batches, long OutOfOrder, long Retried);

/// <summary>What one open-loop PutRecord run produced.</summary>
/// <param name="SentPerSecond">Calls sent per second (the target rate unless the client fell behind).</param>
/// <param name="P50Ms">Median latency from each call's scheduled send time to its answer, ms.</param>
/// <param name="P99Ms">99th percentile of the same, ms.</param>
/// <param name="MaxMs">The slowest, ms.</param>
/// <param name="LagP99Ms">99th percentile of how late the client sent a call after its scheduled time, ms.</param>
/// <param name="Sent">Calls sent.</param>
/// <param name="Failed">Calls that failed.</param>
/// <param name="MaxOutstanding">Most calls awaiting their answer at once.</param>
/// <param name="Cpu">CPU used by the nodes and by this process.</param>
internal sealed record LatencyRun(double SentPerSecond, double P50Ms, double P99Ms, double MaxMs, double LagP99Ms, long Sent, long Failed, int MaxOutstanding, CpuShare Cpu);

/// <summary>What one end-to-end run (puts at a fixed rate, a subscriber per shard on its leader and one on a follower) produced.</summary>
/// <param name="Put">The puts, as an open-loop latency run.</param>
/// <param name="Leader">Delivery through the subscribers on the shards' leaders.</param>
/// <param name="Follower">Delivery through the subscribers on a follower of each shard.</param>
internal sealed record DeliveryRun(LatencyRun Put, DeliveryFigures Leader, DeliveryFigures Follower);

/// <summary>Put-to-delivery latency of a set of subscribers in one run.</summary>
/// <param name="P50Ms">Median of arrival minus send timestamp, ms.</param>
/// <param name="P99Ms">99th percentile, ms.</param>
/// <param name="MaxMs">The slowest, ms.</param>
/// <param name="Expected">Records acknowledged to the shards these subscribers read.</param>
/// <param name="Delivered">Records of the run they received (each once if all is well).</param>
/// <param name="OutOfOrder">Records whose sequence number was not above the previous one's.</param>
internal sealed record DeliveryFigures(double P50Ms, double P99Ms, double MaxMs, long Expected, long Delivered, long OutOfOrder);

/// <summary>CPU used during a run, as a share of all the machine's cores (100 % = every core busy).</summary>
/// <param name="NodesPercent">The three node processes together.</param>
/// <param name="ClientPercent">This process (the load generator).</param>
internal readonly record struct CpuShare(double NodesPercent, double ClientPercent);

/// <summary>CPU time of the nodes and of this process at one moment.</summary>
internal readonly record struct CpuMark(TimeSpan Nodes, TimeSpan Client, long Timestamp)
{
    public static CpuMark Now(LocalCluster cluster)
    {
        using var self = Process.GetCurrentProcess();
        return new CpuMark(cluster.CpuTime, self.TotalProcessorTime, Stopwatch.GetTimestamp());
    }

    public CpuShare Since(CpuMark start)
    {
        var wall = Stopwatch.GetElapsedTime(start.Timestamp, Timestamp).TotalSeconds * Environment.ProcessorCount;
        return wall <= 0
            ? new CpuShare(double.NaN, double.NaN)
            : new CpuShare((Nodes - start.Nodes).TotalSeconds / wall * 100, (Client - start.Client).TotalSeconds / wall * 100);
    }
}
