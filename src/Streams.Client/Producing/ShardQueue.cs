namespace Streams.Client.Producing;

/// <summary>
/// The batches of one shard, and every decision about them: which batch a record joins, when a
/// batch is sealed (full, or its linger over), which batches go out now, what a failure means. Pure:
/// no I/O, no clock (the caller passes timestamps), no lock (the producer holds its own); the
/// producer writes the records' bytes, sends, and reports each outcome back.
/// </summary>
/// <remarks>
/// Order: batches are sent in the order their records came, and a batch is acknowledged only after
/// those before it. With idempotence each batch gets the next sequence of the queue's producer id
/// when first sent and keeps it through retries; the shard refuses a gap (OUT_OF_ORDER) and answers
/// a repeat with its first result, so a retried batch lands once and never after a later one. A
/// batch refused as out of order goes again once every batch before it is acknowledged. A shard
/// takes any sequence from a producer id it has never seen, so the first batch of an id goes alone.
/// When the sequence cannot go on (the oldest batch refused as out of order although it went out
/// with nothing before it unanswered, a batch refused for good), the queue first settles every
/// batch already sent under the old id (retrying it with its sequence until it is acknowledged or
/// refused as out of order with nothing before it unanswered: sent again under a new id, a batch
/// whose earlier attempt landed unseen would land twice), then starts over with a new producer id.
/// </remarks>
internal sealed class ShardQueue
{
    // Sealed batches, oldest first: sent and unanswered, or waiting to be sent (again).
    private readonly List<ProducerBatch> _batches = [];
    private readonly BatchingLimits _limits;
    private readonly Func<ulong> _newProducerId;
    private ProducerBatch? _open;
    private bool _confirmed;
    private bool _restart;

    // Sends so far, to tell an attempt started after a refusal from one started before it.
    private long _sends;

    /// <summary>Creates a queue for a shard, or (with a null <paramref name="shardId"/>) for records waiting for a shard map.</summary>
    /// <param name="shardId">The shard, or null.</param>
    /// <param name="startingHashKey">The first hash key of its range.</param>
    /// <param name="endingHashKey">The last hash key of its range.</param>
    /// <param name="limits">Batch sizes, in-flight limit, idempotence, linger.</param>
    /// <param name="newProducerId">A fresh random producer id each call (not called without idempotence).</param>
    public ShardQueue(string? shardId, UInt128 startingHashKey, UInt128 endingHashKey, BatchingLimits limits, Func<ulong> newProducerId)
    {
        ShardId = shardId;
        StartingHashKey = startingHashKey;
        EndingHashKey = endingHashKey;
        _limits = limits;
        _newProducerId = newProducerId;
        ProducerId = limits.Idempotent ? newProducerId() : 0;

        // Records without a shard wait for a map: nothing is sent from here.
        IsClosing = shardId is null;
    }

    /// <summary>The shard, or null for records waiting for a shard map.</summary>
    public string? ShardId { get; }

    /// <summary>The first hash key of the shard's range.</summary>
    public UInt128 StartingHashKey { get; }

    /// <summary>The last hash key of the shard's range.</summary>
    public UInt128 EndingHashKey { get; }

    /// <summary>The producer id of its batches (0 without idempotence).</summary>
    public ulong ProducerId { get; private set; }

    /// <summary>The sequence the next batch sent gets.</summary>
    public long NextSequence { get; private set; }

    /// <summary>
    /// The shard is closed, or may be: batches already sent go on being retried with their sequence
    /// (the shard's successor takes them, and knows the producer id), the others wait to be routed
    /// again by a newer map (<see cref="DrainTo"/>).
    /// </summary>
    public bool IsClosing { get; private set; }

    /// <summary>An acknowledgement placed records in another shard: the shard is closed for sure.</summary>
    public bool ClosedSeen { get; private set; }

    /// <summary>Queues of closed shards overlapping this one that still hold records: nothing is sent until they are routed here.</summary>
    public int Blockers { get; set; }

    /// <summary>The queues this one blocks until it is drained.</summary>
    public List<ShardQueue> Blocked { get; } = [];

    /// <summary>Batches sent and unanswered.</summary>
    public int InFlight { get; private set; }

    /// <summary>Batches with a sequence of the current producer id and not yet acknowledged (sent, or waiting to be sent again).</summary>
    public int Outstanding { get; private set; }

    /// <summary>No record in it.</summary>
    public bool IsEmpty => _open is null && _batches.Count == 0;

    /// <summary>Closing and nothing of it can still land: its records may be routed elsewhere.</summary>
    public bool CanDrain => IsClosing && Outstanding == 0 && InFlight == 0;

    /// <summary>The producer's timer for this queue's next wake-up, made on first use.</summary>
    public ITimer? Timer { get; set; }

    /// <summary>The latest send (<see cref="ProducerBatch.SentAt"/>) answered, and when (a timestamp): an attempt sent before it and still unanswered well after that lost its answer.</summary>
    public (long SentAt, long Timestamp) LatestAnswered { get; set; }

    /// <summary>Shard maps read since a batch was suspected (<see cref="Suspect"/>) that still show the shard open.</summary>
    public int MapChecks { get; set; }

    /// <summary>When <see cref="Timer"/> is due (a timestamp), or <see cref="long.MaxValue"/> when it is not armed.</summary>
    public long TimerDue { get; set; } = long.MaxValue;

    // The first batch of a producer id goes alone: until it is acknowledged the shard does not know
    // the id and would take a later batch that overtook it.
    private int Limit => _confirmed ? _limits.MaxInFlight : 1;

    // Batches without a sequence wait: the shard is closing, or the producer id is being given up.
    private bool Holding => IsClosing || _restart;

    /// <summary>
    /// The batch a record of <paramref name="entryLength"/> bytes joins: the open one, or a new one when
    /// it is full (the full one is sealed). The caller then adds the record to it and calls <see cref="Added"/>.
    /// </summary>
    /// <param name="entryLength">The record's encoded length.</param>
    /// <param name="now">The current timestamp.</param>
    /// <param name="generation">The current flush generation.</param>
    /// <param name="opened">True when a new batch was opened: its linger starts.</param>
    public ProducerBatch BatchFor(int entryLength, long now, long generation, out bool opened)
    {
        if (_open is { } open
            && (open.Generation != generation || open.RecordCount >= _limits.MaxRecords || open.PayloadLength + entryLength > _limits.MaxBytes))
        {
            SealOpen();
        }

        opened = _open is null;
        return _open ??= new ProducerBatch(now, generation) { State = BatchState.Open };
    }

    /// <summary>After a record was added to <paramref name="batch"/>: seals it when full. True when it was sealed.</summary>
    public bool Added(ProducerBatch batch)
    {
        if (batch != _open || (batch.RecordCount < _limits.MaxRecords && batch.PayloadLength < _limits.MaxBytes))
        {
            return false;
        }

        SealOpen();
        return true;
    }

    /// <summary>Seals the open batch, if any, so that it is sent without waiting for its linger (a flush).</summary>
    public void SealOpen()
    {
        if (_open is { } open)
        {
            open.State = BatchState.Waiting;
            _batches.Add(open);
            _open = null;
        }
    }

    /// <summary>
    /// Adds to <paramref name="output"/>, in order, the batches to send now, and marks them in flight.
    /// Returns when to look again (a linger or backoff ending), or <see cref="long.MaxValue"/> when only
    /// an answer can change anything.
    /// </summary>
    /// <param name="now">The current timestamp.</param>
    /// <param name="output">Receives the batches to send.</param>
    public long TakeSendable(long now, List<ProducerBatch> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Blockers > 0)
        {
            return long.MaxValue;
        }

        if (_restart && Outstanding == 0 && InFlight == 0)
        {
            StartOver();
        }

        for (var i = 0; i < _batches.Count; i++)
        {
            var batch = _batches[i];
            if (batch.State == BatchState.InFlight || (Holding && batch.Sequence < 0))
            {
                continue;
            }

            // Nothing overtakes a batch that waits: later batches would only meet a gap.
            if (batch.NotBefore > now)
            {
                return batch.NotBefore;
            }

            if (batch.AwaitsPredecessors && !PredecessorsResentSince(i, batch.RefusedAt))
            {
                return long.MaxValue;
            }

            if (batch.Sequence < 0)
            {
                if (!WindowOpen())
                {
                    return long.MaxValue;
                }

                Assign(batch);
            }

            Send(batch, i, output);
        }

        if (Holding || _open is not { } open)
        {
            return long.MaxValue;
        }

        var due = open.OpenedAt + _limits.LingerTicks;
        if (now < due)
        {
            return due;
        }

        // Past its linger but no slot: it goes (and grows meanwhile) when an answer frees one.
        if (!WindowOpen())
        {
            return long.MaxValue;
        }

        SealOpen();
        Assign(open);
        Send(open, _batches.Count - 1, output);
        return long.MaxValue;
    }

    /// <summary>The shard wrote the batch: it leaves the queue.</summary>
    public void Acknowledged(ProducerBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.ProducerId == ProducerId && batch.Sequence >= 0)
        {
            _confirmed = true;
        }

        Remove(batch);
    }

    /// <summary>The attempt failed without a verdict (no leader, a lost answer): the same batch, with the same sequence, goes again at <paramref name="notBefore"/>.</summary>
    public void RetryAt(ProducerBatch batch, long notBefore)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Returned(batch);
        batch.Attempts++;
        batch.NotBefore = notBefore;
    }

    /// <summary>
    /// The shard refused the batch's sequence (OUT_OF_ORDER): that attempt wrote nothing. Returns true
    /// when the queue gives up its producer id (the oldest batch was refused although it went out
    /// with nothing before it unanswered).
    /// </summary>
    public bool OutOfOrder(ProducerBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Returned(batch);
        var index = _batches.IndexOf(batch);
        if (batch.SentBehind && !HeldBefore(index))
        {
            // Decided before a batch ahead of it landed, which it may have since (and after it an
            // earlier attempt of this one, still on its way when this one went): no verdict. It goes
            // again with its sequence once those ahead of it are settled or sent again.
            if (index > 0)
            {
                batch.AwaitsPredecessors = true;
                batch.RefusedAt = _sends;
            }

            return false;
        }

        // Not written, and never will be under this sequence: nothing ahead of it is missing (or
        // something ahead of it will never land), yet the shard wants another sequence.
        Unsequence(batch);
        if (Holding)
        {
            // It goes under another producer id or to another shard, and so do those waiting behind it.
            ReleaseRefused(index);
            return false;
        }

        BeginRestart(index);
        return true;
    }

    /// <summary>The shard refused the batch for good: it leaves the queue (the producer fails its records).</summary>
    public void Refused(ProducerBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var index = _batches.IndexOf(batch);
        Remove(batch);

        // The batches after it would meet a gap in the sequence.
        BeginRestart(index);
    }

    /// <summary>
    /// INVALID_ARGUMENT for an idempotent batch: its shard may have been split, so that its records
    /// map to two shards. Nothing was written; the queue holds its unsent batches until a new map says
    /// whether the shard is closed (<see cref="DrainTo"/>) or not (<see cref="Reopen"/>).
    /// </summary>
    public void Suspect(ProducerBatch batch, StreamsException refusal)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Returned(batch);
        Unsequence(batch);
        batch.Refusal = refusal;
        IsClosing = true;
        ReleaseRefused(_batches.IndexOf(batch));
    }

    /// <summary>The shard is closed (an acknowledgement came from another shard), or may be.</summary>
    /// <param name="seen">Known for sure.</param>
    public void Close(bool seen)
    {
        IsClosing = true;
        ClosedSeen |= seen;
        ReleaseRefused(0);
    }

    /// <summary>
    /// The shard is open after all: the suspected batches were refused for their own sake; they leave
    /// the queue into <paramref name="refused"/>, and sending resumes under a new producer id.
    /// </summary>
    public void Reopen(List<ProducerBatch> refused)
    {
        ArgumentNullException.ThrowIfNull(refused);
        for (var i = _batches.Count - 1; i >= 0; i--)
        {
            if (_batches[i].Refusal is not null)
            {
                var batch = _batches[i];
                _batches.RemoveAt(i);
                batch.State = BatchState.Done;
                refused.Insert(0, batch);
            }
        }

        // The batches after them were released when they were suspected.
        IsClosing = false;
        BeginRestart(_batches.Count);
    }

    /// <summary>
    /// Some records of the batch were written and others not (possible without idempotence): the
    /// failed ones, in <paramref name="remainder"/>, take its place and go again at <paramref name="notBefore"/>.
    /// </summary>
    public void ReplaceWithRemainder(ProducerBatch batch, ProducerBatch remainder, long notBefore)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(remainder);
        var index = _batches.IndexOf(batch);
        Returned(batch);
        Unsequence(batch);
        batch.State = BatchState.Done;
        remainder.State = BatchState.Waiting;
        remainder.Attempts = batch.Attempts + 1;
        remainder.NotBefore = notBefore;
        _batches[index] = remainder;
        BeginRestart(index);
    }

    /// <summary>Moves every record-holding batch, oldest first, to <paramref name="output"/>, leaving the queue empty. Only when <see cref="CanDrain"/>.</summary>
    public void DrainTo(List<ProducerBatch> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!CanDrain)
        {
            throw new InvalidOperationException($"Queue of {ShardId ?? "(no shard)"} still has {Outstanding} batches that may land; it cannot be drained.");
        }

        SealOpen();
        foreach (var batch in _batches)
        {
            batch.State = BatchState.Done;
            output.Add(batch);
        }

        _batches.Clear();
    }

    /// <summary>
    /// Adds batches of records routed here from a closed shard, which came before any not yet sent
    /// here: they go in front of those (this queue is blocked until then, so that is all of them).
    /// </summary>
    public void Prepend(List<ProducerBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var at = 0;
        while (at < _batches.Count && _batches[at].Sequence >= 0)
        {
            at++;
        }

        foreach (var batch in batches)
        {
            batch.State = BatchState.Waiting;
        }

        _batches.InsertRange(at, batches);
    }

    /// <summary>Every batch still in the queue, open ones included (to fail them when the producer is disposed).</summary>
    public void CopyAllTo(List<ProducerBatch> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.AddRange(_batches);
        if (_open is not null)
        {
            output.Add(_open);
        }
    }

    private void Assign(ProducerBatch batch)
    {
        batch.Sequence = NextSequence++;
        batch.ProducerId = ProducerId;
        Outstanding++;
    }

    // The window is counted in sequences from the oldest unacknowledged batch, not in batches
    // outstanding: acknowledged batches after it still take places in what the shard remembers of the
    // producer (its last 8 batches), and a retry of that oldest one must still be answered from there.
    private bool WindowOpen()
    {
        foreach (var batch in _batches)
        {
            if (batch.Sequence >= 0)
            {
                return NextSequence - batch.Sequence < Limit;
            }
        }

        return Limit > 0;
    }

    // A batch refused as out of order overtook one before it. It goes again once each batch before it
    // is acknowledged or was sent after the refusal (these sends reach the shard in order; an attempt
    // started before may still be on its way, and the batch would overtake it again).
    private bool PredecessorsResentSince(int index, long refusedAt)
    {
        for (var j = 0; j < index; j++)
        {
            if (_batches[j].State != BatchState.InFlight || _batches[j].SentAt <= refusedAt)
            {
                return false;
            }
        }

        return true;
    }

    private void Send(ProducerBatch batch, int index, List<ProducerBatch> output)
    {
        batch.SentAt = ++_sends;
        batch.SentBehind = index > 0;
        batch.State = BatchState.InFlight;
        batch.AwaitsPredecessors = false;
        InFlight++;
        output.Add(batch);
    }

    private void Returned(ProducerBatch batch)
    {
        if (batch.State != BatchState.InFlight)
        {
            throw new InvalidOperationException($"Batch {batch.Sequence} of {ShardId} answered while {batch.State}.");
        }

        batch.State = BatchState.Waiting;
        InFlight--;
    }

    private void Unsequence(ProducerBatch batch)
    {
        if (batch.Sequence >= 0)
        {
            batch.Sequence = -1;
            Outstanding--;
        }
    }

    private void Remove(ProducerBatch batch)
    {
        Returned(batch);
        if (batch.Sequence >= 0)
        {
            Outstanding--;
        }

        _batches.Remove(batch);
        batch.State = BatchState.Done;
    }

    // The current producer id cannot go on past the batch at index (which will not land under it).
    private void BeginRestart(int index)
    {
        if (!_limits.Idempotent)
        {
            return;
        }

        _restart = true;
        ReleaseRefused(index);
    }

    // Batches from index on that were refused as out of order while waiting for the ones ahead of
    // them will not land under this producer id (a batch ahead of them will not): they are held like
    // unsent ones, else they would wait for batches that are held themselves. Those ahead of index
    // may still land, and go on waiting.
    private void ReleaseRefused(int index)
    {
        for (var i = Math.Max(index, 0); i < _batches.Count; i++)
        {
            var batch = _batches[i];
            if (batch.AwaitsPredecessors)
            {
                batch.AwaitsPredecessors = false;
                Unsequence(batch);
            }
        }
    }

    // A batch ahead of the one at index is held: it will not land under this producer id, so neither
    // will any batch behind it.
    private bool HeldBefore(int index)
    {
        for (var i = 0; i < index; i++)
        {
            if (_batches[i].Sequence < 0)
            {
                return true;
            }
        }

        return false;
    }

    // Every batch of the old producer id is settled: the batches left get sequences of a new one, in order.
    private void StartOver()
    {
        _restart = false;
        _confirmed = false;
        ProducerId = _newProducerId();
        NextSequence = 0;
    }
}
