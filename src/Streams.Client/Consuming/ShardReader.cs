using System.Diagnostics;
using Streams.Client.Api;
using Streams.V1;

namespace Streams.Client.Consuming;

/// <summary>
/// Reads one leased shard for a consumer: GetShardIterator at the lease's starting position, then
/// GetRecords in a loop (to the shard's leader), handing each batch to the application and waiting
/// until it was processed before reading on, so a shard's records are processed in order and one
/// batch at a time. Checkpoints under its lease's epoch, as the policy says, when asked, and at the
/// shard's end (shard_end); stops on request, and on its own when a checkpoint is refused because
/// the lease moved on. Never checkpoints after it stopped, except the last checkpoint of a graceful stop.
/// </summary>
internal sealed class ShardReader : IDisposable
{
    // After a failed automatic checkpoint, the next waits this long, so a struggling cluster is not
    // asked once per record.
    private static readonly TimeSpan _autoCheckpointPause = TimeSpan.FromSeconds(1);

    private readonly ShardLease _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly Lock _lock = new();
    private readonly TagList _tags;
    private string? _lastDelivered;
    private string? _lastProcessed;
    private string? _lastCheckpointed;
    private long _processedSinceCheckpoint;
    private long _recordsProcessed;
    private long _millisBehindLatest;
    private DateTimeOffset _lastCheckpointAt;
    private DateTimeOffset _autoCheckpointPausedUntil;
    private TaskCompletionSource _checkpointed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ShardReaderStop _stopReason;
    private bool _ended;
    private bool _finished;
    private bool _disposed;

    /// <summary>Creates a reader of <paramref name="lease"/>'s shard; <see cref="RunAsync"/> starts it.</summary>
    /// <param name="context">The consumer's shared parts.</param>
    /// <param name="owner">The consumer the reader belongs to.</param>
    /// <param name="lease">The lease, with its epoch and starting position.</param>
    public ShardReader(ConsumerContext context, Consumer owner, ShardLease lease)
    {
        Context = context;
        Owner = owner;
        _lease = lease;
        var checkpoint = lease.Checkpoint.Length > 0 ? lease.Checkpoint : null;
        _lastProcessed = checkpoint;
        _lastCheckpointed = checkpoint;
        _lastCheckpointAt = context.Time.GetUtcNow();
        _tags = context.Tags(lease.ShardId);
    }

    public ConsumerContext Context { get; }

    public Consumer Owner { get; }

    public string ShardId => _lease.ShardId;

    public long Epoch => _lease.Epoch;

    /// <summary>Why the reader stopped, or <see cref="ShardReaderStop.None"/> while it runs (or after it ended the shard).</summary>
    public ShardReaderStop StopReason
    {
        get
        {
            lock (_lock)
            {
                return _stopReason;
            }
        }
    }

    public bool IsStopped => StopReason != ShardReaderStop.None;

    /// <summary>True once <see cref="RunAsync"/> returned: no handler call of this reader is under way or to come.</summary>
    public bool HasFinished
    {
        get
        {
            lock (_lock)
            {
                return _finished;
            }
        }
    }

    /// <summary>True once the shard was read to its end and released with a shard_end checkpoint.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>
    /// Reads until stopped or the shard's end. Never faults: a failure stops the reader and goes to
    /// <paramref name="onFailed"/>.
    /// </summary>
    /// <param name="predecessor">The previous reader of the same shard, which must finish first (one shard's handler calls never overlap).</param>
    /// <param name="deliver">Hands a batch to the application; completes once it was processed.</param>
    /// <param name="onEnded">Called after the shard_end checkpoint, so the member heartbeats at once and gets the children.</param>
    /// <param name="onFailed">Called when reading or the application's handler failed.</param>
    public async Task RunAsync(Task predecessor, Func<ConsumedRecordBatch, CancellationToken, ValueTask> deliver, Action<ShardReader> onEnded, Action<ShardReader, Exception> onFailed)
    {
        var token = _stop.Token;
        try
        {
            await predecessor.WaitAsync(token).ConfigureAwait(false);
            token.ThrowIfCancellationRequested();
            var start = _lease.StartingPosition;
            ConsumerLog.LeaseAcquired(Context.Logger, Context.MemberId, ShardId, Epoch, (start?.Type ?? ShardIteratorType.TrimHorizon).ToString(), start?.SequenceNumber ?? string.Empty);
            var iterator = await OpenIteratorAsync(token).ConfigureAwait(false);
            var failures = 0;
            while (true)
            {
                GetRecordsResponse response;
                try
                {
                    response = await Context.Client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = Context.Options.MaxRecordsPerRead }, Context.StreamName, ShardId, token).ConfigureAwait(false);
                    failures = 0;
                }
                catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.ExpiredIterator)
                {
                    ConsumerLog.IteratorExpired(Context.Logger, Context.MemberId, ShardId, LastDelivered ?? "(the lease's starting position)");
                    iterator = await OpenIteratorAsync(token).ConfigureAwait(false);
                    continue;
                }
                catch (StreamsException ex) when (ConsumerFailures.IsTransient(ex))
                {
                    var delay = Context.BackoffAfter(++failures);
                    ConsumerLog.ReadFailed(Context.Logger, Context.MemberId, ShardId, ex.StatusCode, ex.ErrorCode, delay.TotalMilliseconds);
                    await Task.Delay(delay, Context.Time, token).ConfigureAwait(false);
                    continue;
                }

                lock (_lock)
                {
                    _millisBehindLatest = response.MillisBehindLatest;
                }

                Context.Client.Metrics.ConsumerLag.Record(response.MillisBehindLatest, _tags);
                if (response.Records.Count > 0)
                {
                    var batch = ToBatch(response);
                    lock (_lock)
                    {
                        _lastDelivered = batch.Records[^1].SequenceNumber;
                    }

                    Context.Client.Metrics.ConsumerRecords.Add(batch.Records.Count, _tags);
                    await deliver(batch, token).ConfigureAwait(false);
                }

                if (response.NextShardIterator.Length == 0)
                {
                    await EndShardAsync(onEnded, token).ConfigureAwait(false);
                    return;
                }

                iterator = response.NextShardIterator;
                await CheckpointIfDueAsync(token).ConfigureAwait(false);
                if (response.Records.Count == 0)
                {
                    await Task.Delay(Context.Options.IdleDelay, Context.Time, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped: the reason was set by whoever stopped it.
        }
        catch (Exception ex)
        {
            Stop(ShardReaderStop.Failed);
            onFailed(this, ex);
        }
        finally
        {
            lock (_lock)
            {
                _finished = true;
            }
        }
    }

    /// <summary>Stops the reader (and cancels the handler's token); the first reason given sticks.</summary>
    /// <param name="reason">Why.</param>
    public void Stop(ShardReaderStop reason)
    {
        lock (_lock)
        {
            if (_disposed || _stopReason != ShardReaderStop.None)
            {
                return;
            }

            _stopReason = reason;
        }

        // Asynchronously: the caller may hold the consumer's lock, and the reader's continuations must not run under it.
        _ = _stop.CancelAsync();
    }

    /// <summary>
    /// Records that the application finished the records up to <paramref name="last"/> and
    /// checkpoints when the policy says it is due.
    /// </summary>
    /// <param name="last">The last record finished.</param>
    /// <param name="count">How many records that finished.</param>
    /// <param name="cancellationToken">Cancels the checkpoint.</param>
    public async ValueTask MarkProcessedAsync(ConsumedRecord last, int count, CancellationToken cancellationToken)
    {
        var now = Context.Time.GetUtcNow();
        bool due;
        lock (_lock)
        {
            if (SequenceNumberOrder.IsAfter(last.SequenceNumber, _lastProcessed))
            {
                _lastProcessed = last.SequenceNumber;
            }

            _processedSinceCheckpoint += count;
            _recordsProcessed += count;
            due = IsCheckpointDueLocked(now);
        }

        if (due)
        {
            await AutoCheckpointAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The application's checkpoint at <paramref name="record"/> (which counts as processed from
    /// now): sent whatever the reader believes of its lease, so the server decides. A refusal
    /// (LeaseLostException) stops the reader and is thrown.
    /// </summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task CheckpointAsync(ConsumedRecord record, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (SequenceNumberOrder.IsAfter(record.SequenceNumber, _lastProcessed))
            {
                _lastProcessed = record.SequenceNumber;
            }
        }

        await CheckpointCoreAsync(record.SequenceNumber, shardEnd: false, isExplicit: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checkpoints what was processed and not yet checkpointed (the last checkpoint of a graceful stop, or the application's checkpoint of all shards).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when the lease was lost (the reader stopped).</returns>
    public Task<bool> CheckpointProcessedAsync(CancellationToken cancellationToken)
    {
        string? target;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            target = _lastProcessed;
        }

        return CheckpointCoreAsync(target, shardEnd: false, isExplicit: false, cancellationToken);
    }

    /// <summary>Where the reader is now.</summary>
    public ConsumerShardStatus Status()
    {
        lock (_lock)
        {
            return new ConsumerShardStatus(ShardId, Epoch, _millisBehindLatest, _lastProcessed, _lastCheckpointed, _recordsProcessed);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stop.Dispose();
        _checkpointLock.Dispose();
    }

    private string? LastDelivered
    {
        get
        {
            lock (_lock)
            {
                return _lastDelivered;
            }
        }
    }

    private ConsumedRecordBatch ToBatch(GetRecordsResponse response)
    {
        var records = new ConsumedRecord[response.Records.Count];
        for (var i = 0; i < records.Length; i++)
        {
            var record = response.Records[i];
            records[i] = new ConsumedRecord(
                this,
                record.SequenceNumber,
                record.PartitionKey,
                record.ExplicitHashKey.Length > 0 ? record.ExplicitHashKey : null,
                record.Data.Memory,
                record.ApproximateArrivalTimestamp?.ToDateTimeOffset() ?? default);
        }

        return new ConsumedRecordBatch(this, records, response.MillisBehindLatest);
    }

    // After what was handed over, else where the lease says (after the checkpoint, TRIM_HORIZON or LATEST).
    private async Task<string> OpenIteratorAsync(CancellationToken token)
    {
        var trimmed = false;
        for (var failures = 0; ;)
        {
            var request = new GetShardIteratorRequest { StreamName = Context.StreamName, ShardId = ShardId };
            var after = LastDelivered;
            if (trimmed)
            {
                request.ShardIteratorType = ShardIteratorType.TrimHorizon;
            }
            else if (after is not null)
            {
                request.ShardIteratorType = ShardIteratorType.AfterSequenceNumber;
                request.StartingSequenceNumber = after;
            }
            else
            {
                var start = _lease.StartingPosition;
                request.ShardIteratorType = start is null || start.Type == ShardIteratorType.Unspecified ? ShardIteratorType.TrimHorizon : start.Type;
                request.StartingSequenceNumber = start?.SequenceNumber ?? string.Empty;
                request.Timestamp = start?.Timestamp;
            }

            try
            {
                var response = await Context.Client.GetShardIteratorAsync(request, token).ConfigureAwait(false);
                return response.ShardIterator;
            }
            catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.InvalidSequence && request.ShardIteratorType == ShardIteratorType.AfterSequenceNumber)
            {
                ConsumerLog.CheckpointTrimmed(Context.Logger, Context.MemberId, ShardId, request.StartingSequenceNumber);
                trimmed = true;
            }
            catch (StreamsException ex) when (ConsumerFailures.IsTransient(ex))
            {
                var delay = Context.BackoffAfter(++failures);
                ConsumerLog.ReadFailed(Context.Logger, Context.MemberId, ShardId, ex.StatusCode, ex.ErrorCode, delay.TotalMilliseconds);
                await Task.Delay(delay, Context.Time, token).ConfigureAwait(false);
            }
        }
    }

    // The shard is closed and every record of it was handed over: release it with shard_end once
    // what was processed is checkpointed, so its children can be leased.
    private async Task EndShardAsync(Action<ShardReader> onEnded, CancellationToken token)
    {
        if (Context.Policy.IsManual)
        {
            // Only the application knows when its records are safe: wait for its checkpoint of the last one.
            await WaitForCheckpointOfDeliveredAsync(token).ConfigureAwait(false);
        }

        for (var failures = 0; ;)
        {
            string? last;
            lock (_lock)
            {
                last = Context.Policy.IsManual ? _lastCheckpointed : _lastProcessed;
            }

            try
            {
                if (!await CheckpointCoreAsync(last, shardEnd: true, isExplicit: false, token).ConfigureAwait(false))
                {
                    return;
                }

                break;
            }
            catch (StreamsException ex) when (ConsumerFailures.IsTransient(ex))
            {
                var delay = Context.BackoffAfter(++failures);
                ConsumerLog.CheckpointFailed(Context.Logger, Context.MemberId, ShardId, last ?? "(shard end)", ex);
                await Task.Delay(delay, Context.Time, token).ConfigureAwait(false);
            }
        }

        lock (_lock)
        {
            _ended = true;
        }

        ConsumerLog.ShardEnded(Context.Logger, Context.MemberId, ShardId);
        onEnded(this);
    }

    private async Task WaitForCheckpointOfDeliveredAsync(CancellationToken token)
    {
        while (true)
        {
            Task checkpointed;
            lock (_lock)
            {
                if (!SequenceNumberOrder.IsAfter(_lastDelivered, _lastCheckpointed))
                {
                    return;
                }

                checkpointed = _checkpointed.Task;
            }

            await checkpointed.WaitAsync(token).ConfigureAwait(false);
        }
    }

    private async Task CheckpointIfDueAsync(CancellationToken token)
    {
        bool due;
        lock (_lock)
        {
            due = IsCheckpointDueLocked(Context.Time.GetUtcNow());
        }

        if (due)
        {
            await AutoCheckpointAsync(token).ConfigureAwait(false);
        }
    }

    private bool IsCheckpointDueLocked(DateTimeOffset now) =>
        _stopReason == ShardReaderStop.None
        && now >= _autoCheckpointPausedUntil
        && Context.Policy.IsDue(_processedSinceCheckpoint, now - _lastCheckpointAt);

    private async Task AutoCheckpointAsync(CancellationToken token)
    {
        string? target;
        lock (_lock)
        {
            target = _lastProcessed;
        }

        try
        {
            await CheckpointCoreAsync(target, shardEnd: false, isExplicit: false, token).ConfigureAwait(false);
        }
        catch (StreamsException ex)
        {
            // Not fatal: the records stay processed, and the next checkpoint covers them.
            lock (_lock)
            {
                _autoCheckpointPausedUntil = Context.Time.GetUtcNow() + _autoCheckpointPause;
            }

            ConsumerLog.CheckpointFailed(Context.Logger, Context.MemberId, ShardId, target ?? string.Empty, ex);
        }
    }

    // One checkpoint at a time per shard, never backwards. A refusal because the lease moved on
    // stops the reader: the shard is someone else's now.
    private async Task<bool> CheckpointCoreAsync(string? sequenceNumber, bool shardEnd, bool isExplicit, CancellationToken token)
    {
        await _checkpointLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                if (!shardEnd && !SequenceNumberOrder.IsAfter(sequenceNumber, _lastCheckpointed))
                {
                    return true;
                }
            }

            var request = new CheckpointRequest
            {
                StreamName = Context.StreamName,
                GroupName = Context.GroupName,
                MemberId = Context.MemberId,
                ShardId = ShardId,
                SequenceNumber = sequenceNumber ?? string.Empty,
                LeaseEpoch = Epoch,
                ShardEnd = shardEnd,
            };
            try
            {
                await Context.Client.CheckpointAsync(request, token).ConfigureAwait(false);
            }
            catch (StreamsException ex) when (ConsumerFailures.IsLeaseLost(ex))
            {
                ConsumerLog.CheckpointRefused(Context.Logger, Context.MemberId, ShardId, ex.Message);
                Stop(ShardReaderStop.LeaseLost);
                if (isExplicit)
                {
                    throw;
                }

                return false;
            }

            var now = Context.Time.GetUtcNow();
            TaskCompletionSource checkpointed;
            lock (_lock)
            {
                if (SequenceNumberOrder.IsAfter(sequenceNumber, _lastCheckpointed))
                {
                    _lastCheckpointed = sequenceNumber;
                }

                if (!SequenceNumberOrder.IsAfter(_lastProcessed, _lastCheckpointed))
                {
                    _processedSinceCheckpoint = 0;
                }

                _lastCheckpointAt = now;
                checkpointed = _checkpointed;
                _checkpointed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            checkpointed.TrySetResult();
            ConsumerLog.Checkpointed(Context.Logger, Context.MemberId, ShardId, sequenceNumber ?? "(shard end)", Epoch);
            return true;
        }
        finally
        {
            _checkpointLock.Release();
        }
    }
}
