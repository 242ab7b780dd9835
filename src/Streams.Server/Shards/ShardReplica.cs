using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.Client.Api;
using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Server.Api;
using Streams.Server.Routing;
using Streams.Server.Shards.Log;
using Streams.Storage.Batches;
using Record = Streams.V1.Record;

namespace Streams.Server.Shards;

/// <summary>
/// This node's replica of one shard: the shard's Raft group, whose log is the shard's segment
/// log, and the applied state. Writes go through <see cref="AppendAsync"/> on the leader; reads
/// come from the local segment log up to the committed (applied) index, on any replica.
/// </summary>
internal sealed class ShardReplica
{
    private readonly Lock _pendingLock = new();

    // Idempotent batches proposed by this leader and not yet applied, per producer and sequence:
    // a retry of one of them waits for the first attempt instead of writing again.
    private readonly Dictionary<ulong, Dictionary<int, Task<long>>> _pending = [];
    private readonly List<QueuedAppend> _queued = [];
    private long _caughtUpTerm;
    private bool _catchingUp;

    /// <summary>Creates the replica over a started group.</summary>
    public ShardReplica(ShardIdentity identity, RaftGroup group, ShardRaftLog log, ShardStateMachine state)
    {
        Identity = identity;
        Group = group;
        Log = log;
        State = state;
    }

    /// <summary>Which shard this is.</summary>
    public ShardIdentity Identity { get; }

    /// <summary>The shard's Raft group on this node.</summary>
    public RaftGroup Group { get; }

    /// <summary>The shard's log.</summary>
    public ShardRaftLog Log { get; }

    /// <summary>The applied state: committed watermark, seal, producers.</summary>
    public ShardStateMachine State { get; }

    /// <summary>
    /// Appends a batch of records (built by <see cref="BatchBuilder"/>; term and index are filled in by
    /// the log) and completes with its index once a majority holds it and it is applied here.
    /// With a producer id, a batch already written (same producer and sequence) is not written again:
    /// the index of the first write comes back.
    /// </summary>
    /// <exception cref="ShardClosedException">The shard was sealed before the batch: nothing was written.</exception>
    /// <exception cref="StreamsApiException">An idempotent producer's sequence has a gap.</exception>
    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> batch, ulong producerId, int producerSequence, CancellationToken cancellationToken)
    {
        if (State.SealIndex != 0)
        {
            throw new ShardClosedException(Identity.ToString());
        }

        long index;
        if (producerId == 0)
        {
            index = await Group.ProposeAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            index = await AppendIdempotentAsync(batch, producerId, producerSequence, cancellationToken).ConfigureAwait(false);
        }

        return State.IsVoid(index) ? throw new ShardClosedException(Identity.ToString()) : index;
    }

    /// <summary>Closes the shard: once this returns, no batch after the returned seal index is readable or acknowledged.</summary>
    public async ValueTask<long> SealAsync(CancellationToken cancellationToken)
    {
        if (State.SealIndex is var sealIndex and not 0)
        {
            return sealIndex;
        }

        using var builder = new BatchBuilder(BatchHeader.Size + 1);
        builder.Reset(0, 0, BatchCodec.None, attributes: BatchAttributes.Control);
        builder.AddControlPayload([(byte)ShardControlKind.Seal]);
        await Group.ProposeAsync(builder.Build().ToArray(), cancellationToken).ConfigureAwait(false);
        return State.SealIndex;
    }

    /// <summary>
    /// Reads committed records from <paramref name="from"/>: at most <paramref name="maxRecords"/>,
    /// and about <paramref name="maxBytes"/> of data (at least one record when there is one).
    /// Records that arrived before <paramref name="minArrivalMs"/> are skipped.
    /// </summary>
    public ShardReadResult Read(SequenceNumber from, int maxRecords, long maxBytes, long minArrivalMs)
    {
        if (Group.Completion.IsCompleted)
        {
            // A stopped group's watermark is stale: an empty answer would look caught up.
            throw StreamsApiException.Unavailable($"This node's replica of {Identity} stopped; read from another node or retry.");
        }

        var seal = State.SealIndex;
        var limit = State.AppliedIndex;
        if (seal != 0)
        {
            limit = Math.Min(limit, seal - 1);
        }

        var segments = Log.Segments;
        if (from.Index < segments.FirstIndex)
        {
            // Retention removed what the reader wanted: go on from the trim horizon.
            from = new SequenceNumber(segments.FirstIndex, 0);
        }

        var records = new List<Record>();
        var position = from;
        long bytes = 0;
        var buffer = new ArrayBufferWriter<byte>();
        using var reader = new BatchReader();
        var lastArrival = 0L;
        while (position.Index <= limit && records.Count < maxRecords && bytes < maxBytes)
        {
            buffer.ResetWrittenCount();
            segments.Read(position.Index, Math.Max(64 * 1024, maxBytes - bytes), buffer);
            var span = buffer.WrittenSpan;
            if (span.IsEmpty)
            {
                break;
            }

            while (!span.IsEmpty && position.Index <= limit && records.Count < maxRecords && bytes < maxBytes)
            {
                var header = BatchHeader.Read(span);
                var batch = span[..header.Length];
                span = span[header.Length..];
                if (header.Index != position.Index)
                {
                    throw new InvalidOperationException($"Shard {Identity} read batch {header.Index} where {position.Index} was expected.");
                }

                var opened = reader.Open(batch);
                if (opened.IsControl)
                {
                    position = new SequenceNumber(header.Index + 1, 0);
                    continue;
                }

                foreach (var record in opened)
                {
                    if (record.Position < position.Position)
                    {
                        continue;
                    }

                    if (records.Count >= maxRecords || bytes >= maxBytes)
                    {
                        break;
                    }

                    position = new SequenceNumber(header.Index, record.Position + 1);
                    if (record.ArrivalTimestampMs < minArrivalMs)
                    {
                        continue;
                    }

                    records.Add(ToRecord(header.Index, record));
                    bytes += record.Data.Length + record.PartitionKey.Length;
                    lastArrival = record.ArrivalTimestampMs;
                }

                if (position.Position >= header.RecordCount)
                {
                    position = new SequenceNumber(header.Index + 1, 0);
                }
            }
        }

        var endOfShard = seal != 0 && position.Index >= seal;
        var caughtUp = position.Index > limit;
        var behind = caughtUp || records.Count == 0 ? 0 : Math.Max(0, State.LastArrivalMs - lastArrival);
        return new ShardReadResult(records, position, endOfShard, behind);
    }

    /// <summary>
    /// Deletes the segments older than the retention period that hold only applied batches. When
    /// Raft would lose entries its snapshot does not cover, a snapshot of the current state is kept
    /// first (producer state as of now is a superset of that at the cut: a follower restored from
    /// it sees later batches of a producer again, which the producer table ignores).
    /// </summary>
    public ValueTask<int> ApplyRetentionAsync(CancellationToken cancellationToken) =>
        Log.ApplyRetentionAsync(
            State.AppliedIndex,
            async (_, token) => new SnapshotContent(Group.Status.ConfState, await State.SnapshotAsync(token).ConfigureAwait(false)),
            cancellationToken);

    /// <summary>Completes once a batch after <paramref name="index"/> was applied (or the shard sealed before it).</summary>
    public ValueTask WaitForCommitAsync(long index, CancellationToken cancellationToken) => State.Applied.WaitAsync(index + 1, cancellationToken);

    private static Record ToRecord(long index, Storage.Batches.Record record)
    {
        var result = new Record
        {
            SequenceNumber = new SequenceNumber(index, record.Position).ToString(),
            ApproximateArrivalTimestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(record.ArrivalTimestampMs)),
            Data = ByteString.CopyFrom(record.Data),
            PartitionKey = System.Text.Encoding.UTF8.GetString(record.PartitionKey),
        };
        if (record.ExplicitHashKey is { } hashKey)
        {
            result.ExplicitHashKey = hashKey.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    private async ValueTask<long> AppendIdempotentAsync(ReadOnlyMemory<byte> batch, ulong producerId, int sequence, CancellationToken cancellationToken)
    {
        (Task<long>? Write, bool Proposed) decision;
        QueuedAppend? queued = null;
        var startCatchUp = false;
        long term;
        lock (_pendingLock)
        {
            term = Group.Status.Term;
            if (_caughtUpTerm < term)
            {
                // Decided once the leader caught up, in arrival order (see CatchUpAsync).
                queued = new QueuedAppend(batch, producerId, sequence, cancellationToken);
                _queued.Add(queued);
                startCatchUp = !_catchingUp;
                _catchingUp = true;
                decision = default;
            }
            else
            {
                decision = Decide(batch, producerId, sequence, confirmed: false, cancellationToken);
            }
        }

        if (queued is not null)
        {
            if (startCatchUp)
            {
                _ = CatchUpAsync(term);
            }

            decision = await queued.Decision.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (decision.Write is null)
        {
            // A gap. This leader may be deposed without knowing it, its producer table missing
            // batches a newer leader wrote: a refusal for good waits until a ReadIndex confirms the
            // leadership and applies everything committed (perhaps the missing batches, too).
            await ConfirmGapAsync(producerId, sequence, cancellationToken).ConfigureAwait(false);
            lock (_pendingLock)
            {
                decision = Decide(batch, producerId, sequence, confirmed: true, cancellationToken);
            }
        }

        var write = decision.Write!;
        try
        {
            return await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (decision.Proposed && write.IsCompleted)
            {
                lock (_pendingLock)
                {
                    if (_pending.TryGetValue(producerId, out var inFlight) && inFlight.Remove(sequence) && inFlight.Count == 0)
                    {
                        _pending.Remove(producerId);
                    }
                }
            }
        }
    }

    // A new leader first applies everything earlier leaders committed (a ReadIndex), so that the
    // producer table holds every batch that can ever commit before this term's. The appends that
    // arrived meanwhile are then decided here, one after the other in arrival order, so that a
    // producer's pipelined batches keep their order.
    private async Task CatchUpAsync(long term)
    {
        Exception? failure = null;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Group.ReadIndexAsync(timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Handed to every waiting append.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = ex is OperationCanceledException ? new TimeoutException("The new leader did not catch up in time.", ex) : ex;
        }

        lock (_pendingLock)
        {
            _catchingUp = false;
            if (failure is null)
            {
                _caughtUpTerm = Math.Max(_caughtUpTerm, term);
            }

            foreach (var queued in _queued)
            {
                if (failure is not null)
                {
                    queued.Decision.TrySetException(failure);
                    continue;
                }

                if (queued.CancellationToken.IsCancellationRequested)
                {
                    // Its caller gave up: deciding it now would write a batch nobody waits for,
                    // perhaps after the producer sent it again elsewhere.
                    queued.Decision.TrySetCanceled(queued.CancellationToken);
                    continue;
                }

                try
                {
                    queued.Decision.TrySetResult(Decide(queued.Batch, queued.ProducerId, queued.Sequence, confirmed: false, CancellationToken.None));
                }
#pragma warning disable CA1031 // The refusal belongs to that append.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    queued.Decision.TrySetException(ex);
                }
            }

            _queued.Clear();
        }
    }

    private async Task ConfirmGapAsync(ulong producerId, int sequence, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await Group.ReadIndexAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or NotLeaderException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw StreamsApiException.Unavailable($"Producer {producerId}'s sequence {sequence} on shard {Identity.ShardId} does not follow its latest here, and this replica could not confirm it leads the shard ({ex.Message}); retry.");
        }
    }

    // Under _pendingLock: answers a duplicate from the producer table or the batches in flight,
    // proposes the batch (synchronously queued in the group, so calls made in order are proposed in
    // order), or refuses a gap: for good once confirmed, else with a null write (confirm, then decide again).
    private (Task<long>? Write, bool Proposed) Decide(ReadOnlyMemory<byte> batch, ulong producerId, int sequence, bool confirmed, CancellationToken cancellationToken)
    {
        var (match, latest) = State.FindProducerBatch(producerId, sequence);
        if (match is { } done)
        {
            return (Task.FromResult(done.Index), false);
        }

        _pending.TryGetValue(producerId, out var inFlight);
        if (inFlight is not null && inFlight.TryGetValue(sequence, out var first))
        {
            return (first, false);
        }

        var applied = latest?.Sequence ?? -1;
        var highest = applied;
        if (inFlight is { Count: > 0 })
        {
            highest = Math.Max(highest, inFlight.Keys.Max());
        }

        // Only the applied table says for sure that a sequence was written and forgotten. A later
        // batch merely in flight here may never commit (this leader may already be deposed, its
        // entries about to be replaced), so an earlier sequence it does not know is not refused for
        // good, which would make an idempotent producer start over and write that batch again.
        if (latest is not null && sequence <= applied)
        {
            throw new StreamsApiException(StatusCode.FailedPrecondition, StreamsErrors.OutOfOrderSequence, $"Producer {producerId} wrote sequence {sequence} to shard {Identity.ShardId} too long ago to answer a retry of it (the shard remembers the last {ProducerTable.BatchesPerProducer} batches per producer); its latest is {applied} (term {Group.Status.Term}, applied through index {State.AppliedIndex}).");
        }

        if (sequence <= highest)
        {
            throw StreamsApiException.Unavailable($"Producer {producerId} has later batches than sequence {sequence} in flight on shard {Identity.ShardId} and this one is not among them; retry once they are settled.");
        }

        var known = latest is not null || inFlight is { Count: > 0 };
        if (known && sequence != highest + 1)
        {
            if (!confirmed)
            {
                return (null, false);
            }

            throw new StreamsApiException(StatusCode.FailedPrecondition, StreamsErrors.OutOfOrderSequence, $"Producer {producerId} sent sequence {sequence} to shard {Identity.ShardId}, but the next expected is {highest + 1}; send the batches in between first (term {Group.Status.Term}, applied through index {State.AppliedIndex}, {inFlight?.Count ?? 0} of its batches in flight).");
        }

        var write = Group.ProposeAsync(batch, cancellationToken).AsTask();
        inFlight ??= _pending[producerId] = [];
        inFlight[sequence] = write;
        return (write, true);
    }

    private sealed record QueuedAppend(ReadOnlyMemory<byte> Batch, ulong ProducerId, int Sequence, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<(Task<long>? Write, bool Proposed)> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
