using FsCheck;
using FsCheck.Fluent;
using Streams.Client.Producing;

namespace Streams.Client.Tests.Producing;

/// <summary>
/// Model-based property of the producer's per-shard logic (<see cref="ShardQueue"/>, pure) against a
/// model of a shard with the server's idempotence rules (a producer's last 8 batches remembered, a
/// repeat answered with its first result, a gap or a forgotten repeat refused as out of order, an
/// unknown producer id taking any sequence) over a network that reorders requests and answers, loses
/// requests before they land and answers after, times out attempts that still land later (a request
/// the server took on before the client gave up on it), and refuses some batches for good. Whatever happens,
/// once the network behaves every record is acknowledged or failed exactly once; with idempotence
/// the shard holds each acknowledged record once, none failed, in the order taken, at the place its
/// acknowledgement says; without it, records may repeat but first copies keep the order.
/// </summary>
public sealed class ShardQueueModelTests
{
    private const int EntryLength = 10;
    private const long Linger = 10;
    private const long Backoff = 3;

    private static readonly Gen<Op> _ops = Gen.Frequency(
        (5, Gen.Choose(1, 6).Select(n => new Op(Kind.Append, n))),
        (3, Gen.Choose(0, 15).Select(n => new Op(Kind.Tick, n))),
        (5, Gen.Choose(0, 100).Select(n => new Op(Kind.Deliver, n))),
        (1, Gen.Choose(0, 100).Select(n => new Op(Kind.LoseRequest, n))),
        (1, Gen.Choose(0, 100).Select(n => new Op(Kind.LoseAnswer, n))),
        (1, Gen.Choose(0, 100).Select(n => new Op(Kind.TimeOut, n))),
        (1, Gen.Choose(0, 100).Select(n => new Op(Kind.Refuse, n))),
        (6, Gen.Choose(0, 100).Select(n => new Op(Kind.Answer, n))));

    private enum Kind
    {
        Append,
        Tick,
        Deliver,
        LoseRequest,
        LoseAnswer,
        TimeOut,
        Refuse,
        Answer,
    }

    private enum Verdict
    {
        Written,
        OutOfOrder,
        Unknown,
        Refused,
    }

    [Fact]
    public void Idempotent_batches_land_once_in_order_whatever_the_network_does()
    {
        var gen = from ops in Gen.Choose(1, 150).SelectMany(n => Gen.ArrayOf(_ops, n))
                  from inFlight in Gen.Choose(1, 8)
                  from batchRecords in Gen.Choose(1, 5)
                  select (ops, inFlight, batchRecords);
        Check(Prop.ForAll(gen.ToArbitrary(), t => Run(t.ops, idempotent: true, t.inFlight, t.batchRecords)));
    }

    [Fact]
    public void Without_idempotence_one_batch_at_a_time_keeps_first_copies_in_order()
    {
        var gen = from ops in Gen.Choose(1, 150).SelectMany(n => Gen.ArrayOf(_ops, n))
                  from batchRecords in Gen.Choose(1, 5)
                  select (ops, batchRecords);
        Check(Prop.ForAll(gen.ToArbitrary(), t => Run(t.ops, idempotent: false, 8, t.batchRecords)));
    }

    [Fact]
    public void The_first_batch_of_a_producer_id_goes_alone_and_then_the_window_opens()
    {
        var queue = NewQueue(idempotent: true, maxInFlight: 3, batchRecords: 1);
        for (var i = 0; i < 5; i++)
        {
            Add(queue, i, now: 0);
        }

        var sent = new List<ProducerBatch>();
        queue.TakeSendable(100, sent);
        Assert.Single(sent);
        Assert.Equal(0, sent[0].Sequence);

        queue.Acknowledged(sent[0]);
        sent.Clear();
        queue.TakeSendable(100, sent);
        Assert.Equal([1L, 2L, 3L], sent.Select(b => b.Sequence));
        Assert.All(sent, b => Assert.Equal(queue.ProducerId, b.ProducerId));
    }

    [Fact]
    public void A_batch_waits_for_its_linger_unless_it_is_full()
    {
        var queue = NewQueue(idempotent: true, maxInFlight: 4, batchRecords: 3);
        Add(queue, 0, now: 0);
        var sent = new List<ProducerBatch>();
        Assert.Equal(Linger, queue.TakeSendable(5, sent));
        Assert.Empty(sent);

        Add(queue, 1, now: 5);
        Add(queue, 2, now: 6);
        Assert.Equal(long.MaxValue, queue.TakeSendable(6, sent));
        Assert.Equal(3, Assert.Single(sent).RecordCount);
    }

    [Fact]
    public void A_closing_queue_retries_what_it_sent_and_holds_the_rest_until_drained()
    {
        var (queue, sent) = InFlightAfterTheFirstWasAcknowledged(3);
        Assert.Equal(3, sent.Count);
        Add(queue, 4, now: 200);
        queue.Close(seen: true);

        // Refused while the batch ahead of it was unanswered: no verdict, it goes again with its sequence.
        queue.RetryAt(sent[0], 0);
        queue.OutOfOrder(sent[1]);
        var again = new List<ProducerBatch>();
        queue.TakeSendable(300, again);
        Assert.Equal([sent[0], sent[1]], again);
        Assert.False(queue.CanDrain);

        queue.Acknowledged(sent[0]);
        queue.OutOfOrder(sent[2]);
        queue.OutOfOrder(sent[1]);
        again.Clear();
        queue.TakeSendable(400, again);
        Assert.Equal([sent[1], sent[2]], again);
        Assert.False(queue.CanDrain);

        // Refused as the oldest: a verdict, and the one behind it cannot land either.
        queue.OutOfOrder(sent[1]);
        queue.OutOfOrder(sent[2]);
        Assert.True(queue.CanDrain);
        var drained = new List<ProducerBatch>();
        queue.DrainTo(drained);
        Assert.Equal([2, 3, 4], drained.SelectMany(b => Enumerable.Range(0, b.RecordCount).Select(i => (int)b.Record(i).HashKey)));
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void A_refusal_decided_before_an_earlier_batch_landed_is_no_reason_to_start_over()
    {
        var (queue, sent) = InFlightAfterTheFirstWasAcknowledged(2);
        var firstId = queue.ProducerId;
        var (first, second) = (sent[0], sent[1]);

        // The second batch's attempt times out (it may still land) and its retry overtakes the first.
        queue.RetryAt(second, 0);
        sent.Clear();
        queue.TakeSendable(300, sent);
        Assert.Equal([second], sent);
        queue.Acknowledged(first);

        // The retry's refusal, decided before the first landed, arrives once the second is oldest.
        Assert.False(queue.OutOfOrder(second));
        sent.Clear();
        queue.TakeSendable(400, sent);
        Assert.Equal([second], sent);
        Assert.Equal((firstId, 2L), (second.ProducerId, second.Sequence));

        // Sent as the oldest, the same refusal is a verdict: the queue starts over under a new id.
        Assert.True(queue.OutOfOrder(second));
        sent.Clear();
        queue.TakeSendable(500, sent);
        Assert.NotEqual(firstId, Assert.Single(sent).ProducerId);
        Assert.Equal(0, sent[0].Sequence);
    }

    /// <summary>300 cases by default; STREAMS_LONG_TESTS=1 runs 10,000.</summary>
    private static void Check(Property property) =>
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 10_000 : 300), property);

    [Fact]
    public void A_batch_waiting_for_its_predecessors_is_held_for_draining_when_its_shard_may_have_closed()
    {
        var (queue, sent) = InFlightAfterTheFirstWasAcknowledged(2);

        // The second overtook the first and was refused; then the first is refused as invalid (a split?).
        queue.OutOfOrder(sent[1]);
        Assert.True(sent[1].AwaitsPredecessors);
        queue.Suspect(sent[0], new StreamsException("records map to two shards"));

        Assert.True(queue.CanDrain);
        var drained = new List<ProducerBatch>();
        queue.DrainTo(drained);
        Assert.Equal([1, 2], drained.Select(b => (int)b.Record(0).HashKey));
    }

    // A queue of one record a batch whose producer id is confirmed (its first batch acknowledged),
    // with the next batches, of records 1 to count, in flight.
    private static (ShardQueue Queue, List<ProducerBatch> Sent) InFlightAfterTheFirstWasAcknowledged(int count)
    {
        var queue = NewQueue(idempotent: true, maxInFlight: 4, batchRecords: 1);
        Add(queue, 0, now: 0);
        var sent = new List<ProducerBatch>();
        queue.TakeSendable(100, sent);
        queue.Acknowledged(sent[0]);
        sent.Clear();
        for (var i = 1; i <= count; i++)
        {
            Add(queue, i, now: 100);
        }

        queue.TakeSendable(200, sent);
        return (queue, sent);
    }

    private static ShardQueue NewQueue(bool idempotent, int maxInFlight, int batchRecords)
    {
        ulong ids = 0;
        return new ShardQueue("shardId-000000000000", UInt128.Zero, UInt128.MaxValue, new BatchingLimits(batchRecords, 1 << 20, idempotent ? maxInFlight : 1, idempotent, Linger), () => ++ids);
    }

    private static void Add(ShardQueue queue, int record, long now)
    {
        var batch = queue.BatchFor(EntryLength, now, 0, out _);
        batch.Add(null, (UInt128)record, EntryLength);
        queue.Added(batch);
    }

    private static bool Run(Op[] ops, bool idempotent, int maxInFlight, int batchRecords)
    {
        var queue = NewQueue(idempotent, maxInFlight, batchRecords);
        var shard = new ModelShard();
        var requests = new List<Request>();
        var answers = new List<(ProducerBatch Batch, Verdict Verdict, long Index, int[] Records)>();

        // Attempts the client gave up on that may still land, unanswered.
        var zombies = new List<Request>();
        var outcomes = new Dictionary<int, string>();
        var acknowledgedAt = new Dictionary<int, long>();

        // Batches some attempt of which reached the shard: a refusal for good comes before anything
        // lands (a bad request, an unknown stream), so only these are refused.
        var landed = new HashSet<ProducerBatch>();
        var taken = 0;
        long now = 0;
        var trace = new List<string>();

        void Pump()
        {
            var sent = new List<ProducerBatch>();
            queue.TakeSendable(now, sent);
            foreach (var batch in sent)
            {
                requests.Add(new Request(batch, batch.ProducerId, batch.Sequence, RecordsOf(batch)));
                trace.Add($"t={now} send p{batch.ProducerId} s{batch.Sequence} [{string.Join(",", RecordsOf(batch))}]");
            }
        }

        void Answer(int index)
        {
            var (batch, verdict, at, records) = answers[index];
            answers.RemoveAt(index);
            trace.Add($"t={now} answer p{batch.ProducerId} s{batch.Sequence} [{string.Join(",", records)}]: {verdict} at {at}");
            switch (verdict)
            {
                case Verdict.Written:
                    Assert.Equal(RecordsOf(batch), records);
                    for (var i = 0; i < records.Length; i++)
                    {
                        Assert.True(outcomes.TryAdd(records[i], "acked"), $"record {records[i]} answered twice");
                        acknowledgedAt[records[i]] = at + i;
                    }

                    queue.Acknowledged(batch);
                    break;
                case Verdict.OutOfOrder:
                    queue.OutOfOrder(batch);
                    break;
                case Verdict.Unknown:
                    queue.RetryAt(batch, now + Backoff);
                    break;
                default:
                    foreach (var record in RecordsOf(batch))
                    {
                        Assert.True(outcomes.TryAdd(record, "failed"), $"record {record} answered twice");
                    }

                    queue.Refused(batch);
                    break;
            }

            Pump();
        }

        void CheckInvariants()
        {
            Assert.True(queue.Outstanding <= maxInFlight, $"{queue.Outstanding} batches outstanding, limit {maxInFlight}");
            Assert.Equal(queue.InFlight, requests.Count + answers.Count);
        }

        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case Kind.Append:
                    for (var i = 0; i < op.Value; i++)
                    {
                        Add(queue, taken++, now);
                    }

                    Pump();
                    break;
                case Kind.Tick:
                    now += op.Value;
                    Pump();
                    break;
                case Kind.Answer when answers.Count > 0:
                    Answer(op.Value % answers.Count);
                    break;
                case Kind.Deliver when zombies.Count > 0 && op.Value % 3 == 0:
                    var zombie = zombies[op.Value % zombies.Count];
                    zombies.Remove(zombie);
                    landed.Add(zombie.Batch);
                    trace.Add($"t={now} zombie p{zombie.ProducerId} s{zombie.Sequence} lands: {shard.Decide(zombie, idempotent).Verdict}");
                    break;
                case Kind.Deliver or Kind.LoseRequest or Kind.LoseAnswer or Kind.TimeOut or Kind.Refuse when requests.Count > 0:
                    var request = requests[op.Value % requests.Count];
                    requests.Remove(request);
                    if (op.Kind == Kind.TimeOut)
                    {
                        zombies.Add(request);
                        answers.Add((request.Batch, Verdict.Unknown, -1, request.Records));
                    }
                    else if (op.Kind == Kind.LoseRequest)
                    {
                        answers.Add((request.Batch, Verdict.Unknown, -1, request.Records));
                    }
                    else if (op.Kind == Kind.Refuse && !landed.Contains(request.Batch) && !zombies.Exists(z => z.Batch == request.Batch))
                    {
                        answers.Add((request.Batch, Verdict.Refused, -1, request.Records));
                    }
                    else
                    {
                        landed.Add(request.Batch);
                        var (verdict, index, records) = shard.Decide(request, idempotent);
                        answers.Add((request.Batch, op.Kind == Kind.LoseAnswer ? Verdict.Unknown : verdict, index, records));
                    }

                    break;
            }

            CheckInvariants();
        }

        // The network behaves from here on: everything is answered.
        for (var round = 0; round < 10_000 && (!queue.IsEmpty || requests.Count > 0 || answers.Count > 0); round++)
        {
            queue.SealOpen();
            now += 100;
            foreach (var zombie in zombies)
            {
                shard.Decide(zombie, idempotent);
            }

            zombies.Clear();
            Pump();
            while (requests.Count > 0)
            {
                var request = requests[0];
                requests.RemoveAt(0);
                var (verdict, index, records) = shard.Decide(request, idempotent);
                answers.Add((request.Batch, verdict, index, records));
            }

            while (answers.Count > 0)
            {
                Answer(0);
            }

            CheckInvariants();
        }

        Assert.True(queue.IsEmpty, "records left in the queue after the network behaved");
        Assert.Equal(0, queue.Outstanding);
        Assert.Equal(taken, outcomes.Count);

        var log = shard.Log;
        var context = $"log [{string.Join(",", log)}]\n{string.Join("\n", trace)}";
        if (idempotent)
        {
            Assert.True(log.Count == log.Distinct().Count(), $"a record was written twice: {context}");
            Assert.True(log.Order().SequenceEqual(log), $"records out of order: {context}");
            Assert.Equal(outcomes.Where(o => o.Value == "acked").Select(o => o.Key).Order(), log.Order());
            foreach (var (record, at) in acknowledgedAt)
            {
                Assert.Equal(record, log[(int)at]);
            }
        }
        else
        {
            var first = log.Distinct().ToList();
            Assert.Equal(first.Order().ToList(), first);
            Assert.Equal(outcomes.Where(o => o.Value == "acked").Select(o => o.Key).Order(), first.Order());
        }

        return true;
    }

    private static int[] RecordsOf(ProducerBatch batch) => [.. Enumerable.Range(0, batch.RecordCount).Select(i => (int)batch.Record(i).HashKey)];

    private readonly record struct Op(Kind Kind, int Value);

    private sealed record Request(ProducerBatch Batch, ulong ProducerId, long Sequence, int[] Records);

    /// <summary>A shard as the server's ShardReplica and ProducerTable behave, writing records to a list.</summary>
    private sealed class ModelShard
    {
        private readonly Dictionary<ulong, List<(long Sequence, long Index, int[] Records)>> _producers = [];

        public List<int> Log { get; } = [];

        public (Verdict Verdict, long Index, int[] Records) Decide(Request request, bool idempotent)
        {
            if (!idempotent)
            {
                return Append(request.Records);
            }

            if (_producers.TryGetValue(request.ProducerId, out var batches))
            {
                foreach (var (sequence, index, records) in batches)
                {
                    if (sequence == request.Sequence)
                    {
                        // A repeat: answered with the first result, which must be of the same records.
                        Assert.Equal(records, request.Records);
                        return (Verdict.Written, index, records);
                    }
                }

                if (request.Sequence != batches[^1].Sequence + 1)
                {
                    return (Verdict.OutOfOrder, -1, request.Records);
                }
            }
            else
            {
                _producers[request.ProducerId] = batches = [];
            }

            var written = Append(request.Records);
            batches.Add((request.Sequence, written.Index, request.Records));
            if (batches.Count > 8)
            {
                batches.RemoveAt(0);
            }

            return written;
        }

        private (Verdict Verdict, long Index, int[] Records) Append(int[] records)
        {
            var index = Log.Count;
            Log.AddRange(records);
            return (Verdict.Written, index, records);
        }
    }
}
