using System.Diagnostics;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.ClusterBench;

/// <summary>
/// Put-to-delivery latency: two SubscribeToShard subscribers per shard, one on the shard's leader
/// and one on a follower, all in this process, while open-loop PutRecord calls write records
/// stamped with their send time; each record's latency is its arrival at a subscriber minus that
/// stamp (one clock, <see cref="Stopwatch"/>, so no skew).
/// </summary>
internal sealed class DeliveryLoad(StreamsBench bench, LatencyLoad puts) : IAsyncDisposable
{
    private readonly List<Subscriber> _subscribers = [];
    private readonly List<Task> _tasks = [];
    private readonly LatencyMerger _merger = new();
    private CancellationTokenSource? _stop;

    /// <summary>Each subscriber: shard, node, and whether that node led the shard when it subscribed.</summary>
    public IEnumerable<(string ShardId, string Node, bool ViaLeader)> Placement =>
        _subscribers.Select(s => (s.Shard.ShardId, bench.Cluster.Nodes[s.Node].Name, s.ViaLeader));

    /// <summary>Subscribes at LATEST on each shard's leader and on a follower.</summary>
    public void Start(Failures failures, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        foreach (var shard in bench.Shards)
        {
            _subscribers.Add(new Subscriber(bench, shard, shard.Leader, viaLeader: true, failures));
            if (shard.Replicas.FirstOrDefault(r => r != shard.Leader, -1) is var follower and >= 0)
            {
                _subscribers.Add(new Subscriber(bench, shard, follower, viaLeader: false, failures));
            }
        }

        foreach (var subscriber in _subscribers)
        {
            _tasks.Add(Task.Run(() => subscriber.RunAsync(_stop.Token), _stop.Token));
        }
    }

    /// <summary>Puts untagged records until every subscriber has received one (it is then surely subscribed), or the timeout.</summary>
    public async Task<bool> WarmUpAsync(TimeSpan warmup, TimeSpan timeout, Failures failures, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        do
        {
            await puts.RunAsync(Target.AnyNode, bench.Settings.Rate, warmup, 0, null, failures, cancellationToken).ConfigureAwait(false);
        }
        while (!_subscribers.All(s => s.Live) && Stopwatch.GetTimestamp() < until);

        return _subscribers.All(s => s.Live);
    }

    public async Task<DeliveryRun> RunAsync(int tag, TimeSpan duration, Failures failures, CancellationToken cancellationToken)
    {
        foreach (var subscriber in _subscribers)
        {
            subscriber.Begin(tag);
        }

        var acked = new long[bench.Shards.Count];
        var put = await puts.RunAsync(Target.AnyNode, bench.Settings.Rate, duration, tag, acked, failures, cancellationToken).ConfigureAwait(false);

        // Every acknowledged record should reach every subscriber of its shard; give them a moment.
        var until = Stopwatch.GetTimestamp() + (long)(bench.Settings.DeliveryGrace.TotalSeconds * Stopwatch.Frequency);
        while (_subscribers.Any(s => s.Delivered < Interlocked.Read(ref acked[s.Shard.Index])) && Stopwatch.GetTimestamp() < until)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        var leader = Figures(_subscribers.Where(s => s.ViaLeader).ToList(), acked, failures);
        var follower = Figures(_subscribers.Where(s => !s.ViaLeader).ToList(), acked, failures);
        return new DeliveryRun(put, leader, follower);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
                // Cancelled subscriptions end with a cancellation; one that does not end is left behind.
            }

            _stop.Dispose();
        }
    }

    private DeliveryFigures Figures(List<Subscriber> subscribers, long[] acked, Failures failures)
    {
        var recorders = new LatencyRecorder[subscribers.Count];
        long expected = 0;
        long delivered = 0;
        long outOfOrder = 0;
        for (var i = 0; i < subscribers.Count; i++)
        {
            var subscriber = subscribers[i];
            var (recorder, count, disorder) = subscriber.End();
            recorders[i] = recorder;
            var shouldHave = Interlocked.Read(ref acked[subscriber.Shard.Index]);
            expected += shouldHave;
            delivered += count;
            outOfOrder += disorder;
            var node = bench.Cluster.Nodes[subscriber.Node].Name;
            if (count < shouldHave)
            {
                failures.Other($"SubscribeToShard on {node}: {shouldHave - count} of {shouldHave} acknowledged records of {subscriber.Shard.ShardId} not delivered within {DurationText.Format(bench.Settings.DeliveryGrace)} of the last put");
            }
            else if (count > shouldHave)
            {
                failures.Other($"SubscribeToShard on {node}: {count - shouldHave} more records of {subscriber.Shard.ShardId} delivered than acknowledged (duplicates, or a failed put that landed)");
            }

            if (disorder > 0)
            {
                failures.Other($"SubscribeToShard on {node}: {disorder} records of {subscriber.Shard.ShardId} delivered with a sequence number not above the previous one");
            }
        }

        if (subscribers.Count == 0)
        {
            return new DeliveryFigures(double.NaN, double.NaN, double.NaN, 0, 0, 0);
        }

        var (p50, p99, max) = _merger.PercentilesAndMax(recorders);
        return new DeliveryFigures(p50 / 1000, p99 / 1000, max / 1000, expected, delivered, outOfOrder);
    }

    /// <summary>One SubscribeToShard subscription, resumed after its last record should it fail.</summary>
    private sealed class Subscriber(StreamsBench bench, ShardInfo shard, int node, bool viaLeader, Failures failures)
    {
        private const int NoTag = int.MinValue;
        private readonly Lock _gate = new();
        private readonly LatencyRecorder _recorder = new(1 << 14);
        private int _tag = NoTag;
        private long _delivered;
        private long _outOfOrder;
        private string _last = "";
        private volatile bool _live;

        public ShardInfo Shard => shard;

        public int Node => node;

        public bool ViaLeader => viaLeader;

        /// <summary>It has received a record: surely subscribed.</summary>
        public bool Live => _live;

        /// <summary>Records of the current run received so far.</summary>
        public long Delivered
        {
            get
            {
                lock (_gate)
                {
                    return _delivered;
                }
            }
        }

        /// <summary>Counts the records tagged <paramref name="tag"/> from now on.</summary>
        public void Begin(int tag)
        {
            lock (_gate)
            {
                _recorder.Reset();
                _delivered = 0;
                _outOfOrder = 0;
                _tag = tag;
            }
        }

        /// <summary>Stops counting; the samples stay valid until the next <see cref="Begin"/>.</summary>
        public (LatencyRecorder Samples, long Delivered, long OutOfOrder) End()
        {
            lock (_gate)
            {
                _tag = NoTag;
                return (_recorder, _delivered, _outOfOrder);
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var client = bench.Cluster.Clients[node];
            while (!cancellationToken.IsCancellationRequested)
            {
                var start = _last.Length == 0
                    ? new StartingPosition { Type = ShardIteratorType.Latest }
                    : new StartingPosition { Type = ShardIteratorType.AfterSequenceNumber, SequenceNumber = _last };
                try
                {
                    var request = new SubscribeToShardRequest { StreamName = bench.StreamName, ShardId = shard.ShardId, StartingPosition = start };
                    using var call = client.SubscribeToShard(request, new CallOptions { CancellationToken = cancellationToken });
                    while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                    {
                        var arrival = Stopwatch.GetTimestamp();
                        Take(call.ResponseStream.Current, arrival);
                    }

                    failures.Other($"SubscribeToShard on {bench.Cluster.Nodes[node].Name}: the subscription to {shard.ShardId} ended (subscribed again)");
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    return; // Unsubscribed: the call ends with CANCELLED.
                }
                catch (Exception ex)
                {
                    failures.Call($"SubscribeToShard on {bench.Cluster.Nodes[node].Name}", ex);
                    try
                    {
                        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }

        private void Take(SubscribeToShardEvent update, long arrival)
        {
            if (update.Records.Count == 0)
            {
                return;
            }

            lock (_gate)
            {
                foreach (var record in update.Records)
                {
                    var sequence = record.SequenceNumber;
                    if (_last.Length > 0 && Compare(sequence, _last) <= 0)
                    {
                        _outOfOrder++;
                    }

                    _last = sequence;
                    if (RecordSource.TryReadStamp(record.Data, out var tag, out var sent) && tag == _tag)
                    {
                        _recorder.Add(arrival - sent);
                        _delivered++;
                    }
                }
            }

            _live = true;
        }

        // Sequence numbers of a shard compare by length, then character by character.
        private static int Compare(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
    }
}
