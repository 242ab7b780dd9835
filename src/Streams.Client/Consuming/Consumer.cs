using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Streams.V1;

namespace Streams.Client.Consuming;

/// <summary>
/// Consumes a stream as a member of a consumer group: the server spreads the stream's shards over
/// the group's live members as leases; this consumer reads the shards it holds, hands their
/// records to the application (a callback, or <see cref="ReadAllAsync"/>), and checkpoints after
/// they were processed, so a restarted consumer, or the member a shard moves to, goes on after the
/// last checkpoint. Records are processed at least once: what came after the last checkpoint of a
/// consumer that crashed is processed again by the next.
/// </summary>
/// <remarks>
/// <para>
/// Records of one shard come in sequence order and one at a time (a shard's handler calls never
/// overlap); different shards are processed concurrently. A closed shard (split or merged away) is
/// read to its end before its children are leased, so the records of a partition key stay in order
/// across resharding.
/// </para>
/// <para>
/// The consumer heartbeats every third of <see cref="ConsumerOptions.SessionTimeout"/>. A consumer
/// that stops heartbeating (crashed, cut off) loses its shards to the others once the session
/// times out; if it is only cut off, it stops processing them on its own shortly before (half a
/// heartbeat interval), and a checkpoint it still sends is refused
/// (<see cref="Api.StreamsErrors.LeaseLost"/>); once it reaches the cluster again it joins anew.
/// </para>
/// <para>
/// Run it once, with <see cref="RunAsync"/>, <see cref="RunBatchesAsync"/> or
/// <see cref="ReadAllAsync"/>; cancelling the token (or <see cref="DisposeAsync"/>) stops it
/// gracefully: handlers are cancelled, what was processed is checkpointed (unless checkpoints are
/// manual), and it leaves the group so its shards move at once. It uses the client's logger factory,
/// clock and meter (<see cref="StreamsClient.MeterName"/>: records handed over and lag per shard);
/// it does not dispose the client.
/// </para>
/// </remarks>
public sealed class Consumer : IAsyncDisposable
{
    private readonly ConsumerContext _context;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ShardReader> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _lastRunOfShard = new(StringComparer.Ordinal);
    private readonly List<ShardReader> _allReaders = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource<Exception> _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<ConsumedRecordBatch, CancellationToken, ValueTask>? _deliver;
    private GroupMembership? _membership;
    private bool _stopping;
    private int _started;
    private int _disposed;

    /// <summary>Creates a consumer; nothing is sent until it runs.</summary>
    /// <param name="client">The client to reach the cluster through (shared; not disposed by the consumer).</param>
    /// <param name="options">What to consume and how; validated here.</param>
    public Consumer(StreamsClient client, ConsumerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var memberId = options.MemberId ?? GeneratedMemberId.Create(Environment.MachineName, Environment.ProcessId, client.NextRandom());
        _context = new ConsumerContext(client, options, memberId, client.LoggerFactory.CreateLogger<Consumer>());
    }

    /// <summary>The options.</summary>
    public ConsumerOptions Options => _context.Options;

    /// <summary>This consumer's member id in the group (the option's, or the one made for it).</summary>
    public string MemberId => _context.MemberId;

    /// <summary>
    /// Consumes until <paramref name="cancellationToken"/> is cancelled, handing every record to
    /// <paramref name="handler"/>: a record counts as processed once its call returned, and is
    /// checkpointed as the policy says. Completes after the graceful stop. An exception from the
    /// handler (other than a cancellation it was asked for) stops the consumer gracefully, without
    /// counting that record as processed, and is thrown from here; so is a failure the consumer
    /// cannot get past (such as a stream that does not exist).
    /// </summary>
    /// <param name="handler">Processes one record; gets a token cancelled when the shard is no longer this consumer's or the consumer stops.</param>
    /// <param name="cancellationToken">Stops the consumer gracefully.</param>
    public Task RunAsync(Func<ConsumedRecord, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return RunCoreAsync(
            async (batch, token) =>
            {
                foreach (var record in batch.Records)
                {
                    token.ThrowIfCancellationRequested();
                    await handler(record, token).ConfigureAwait(false);
                    await batch.Reader.MarkProcessedAsync(record, 1, token).ConfigureAwait(false);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// As <see cref="RunAsync"/>, a batch (the records of one read of one shard) at a time: the
    /// batch counts as processed once the call returned.
    /// </summary>
    /// <param name="handler">Processes one batch; gets a token cancelled when the shard is no longer this consumer's or the consumer stops.</param>
    /// <param name="cancellationToken">Stops the consumer gracefully.</param>
    public Task RunBatchesAsync(Func<ConsumedRecordBatch, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return RunCoreAsync(
            async (batch, token) =>
            {
                await handler(batch, token).ConfigureAwait(false);
                await batch.Reader.MarkProcessedAsync(batch.Records[^1], batch.Records.Count, token).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <summary>
    /// The records of every shard this consumer holds, merged into one sequence (each shard's in
    /// order). A record counts as processed when the next one is asked for (or when checkpointed
    /// with <see cref="CheckpointAsync(ConsumedRecord, CancellationToken)"/>), so the last record
    /// handed out before the loop is left is not checkpointed by the consumer itself. Cancelling
    /// <paramref name="cancellationToken"/>, or leaving the loop, stops the consumer gracefully and
    /// ends the sequence without an exception; a failure the consumer cannot get past is thrown.
    /// </summary>
    /// <param name="cancellationToken">Stops the consumer gracefully.</param>
    public async IAsyncEnumerable<ConsumedRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var queue = new RecordQueue();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = CompleteWhenStoppedAsync(RunCoreAsync(queue.DeliverAsync, stop.Token), queue);
        try
        {
            while (true)
            {
                ConsumedRecord? next;
                try
                {
                    next = await queue.NextAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    next = null;
                }

                if (next is null)
                {
                    break;
                }

                yield return next;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Checkpoints the record's shard at <paramref name="record"/> now (it and the shard's records
    /// before it count as processed). Sent under the lease the record was read with, so the server
    /// refuses it with a <see cref="StreamsException"/> whose <see cref="StreamsException.ErrorCode"/>
    /// is <see cref="Api.StreamsErrors.LeaseLost"/> when the shard moved to another member since
    /// (the consumer then stops reading that shard). A record not after the shard's last checkpoint
    /// is not sent again.
    /// </summary>
    /// <param name="record">A record this consumer handed out.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task CheckpointAsync(ConsumedRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!ReferenceEquals(record.Reader.Owner, this))
        {
            throw new ArgumentException($"Record {record} was read by another Consumer; checkpoint it through the consumer that handed it out.", nameof(record));
        }

        return record.Reader.CheckpointAsync(record, cancellationToken);
    }

    /// <summary>
    /// Checkpoints every shard this consumer reads at its last processed record now. A shard whose
    /// lease was lost is skipped (and no longer read); other failures are thrown.
    /// </summary>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public async Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        List<ShardReader> readers;
        lock (_lock)
        {
            readers = [.. _readers.Values.Where(r => !r.IsStopped && !r.HasEnded)];
        }

        foreach (var reader in readers)
        {
            await reader.CheckpointProcessedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The shards this consumer reads now, how far it got in each and how far behind it is.</summary>
    public ConsumerStatus GetStatus()
    {
        List<ConsumerShardStatus> shards;
        GroupMembership? membership;
        lock (_lock)
        {
            membership = _membership;
            shards = [.. _readers.Values
                .Where(r => !r.IsStopped && !r.HasEnded)
                .OrderBy(r => r.ShardId, StringComparer.Ordinal)
                .Select(r => r.Status())];
        }

        return new ConsumerStatus(MemberId, membership?.IsMember ?? false, membership?.Generation ?? 0, shards);
    }

    /// <summary>Stops the consumer gracefully if it runs (see <see cref="RunAsync"/>) and waits until it stopped. Do not call it from a handler.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The source is not disposed: a run starting at this moment may still link to it (and stop at once).
        await _disposing.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _started) != 0)
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    private static async Task CompleteWhenStoppedAsync(Task run, RecordQueue queue)
    {
        try
        {
            await run.ConfigureAwait(false);
            queue.Complete(null);
        }
        catch (Exception ex)
        {
            // Handed to the enumerator, which throws it.
            queue.Complete(ex);
        }
    }

    private async Task RunCoreAsync(Func<ConsumedRecordBatch, CancellationToken, ValueTask> deliver, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("This Consumer has already run (RunAsync, RunBatchesAsync or ReadAllAsync); a consumer runs once: make a new one to consume again.");
        }

        try
        {
            using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            using var heartbeatsStop = new CancellationTokenSource();
            var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = run.Token.Register(() => stopRequested.TrySetResult());
            var membership = new GroupMembership(_context, OnLeases, OnRevoked);
            lock (_lock)
            {
                _deliver = deliver;
                _membership = membership;
            }

            Exception? failure = null;
            var heartbeats = Task.CompletedTask;
            var joined = false;
            try
            {
                await membership.JoinAsync(run.Token).ConfigureAwait(false);
                joined = true;
                heartbeats = membership.RunAsync(heartbeatsStop.Token);
                var first = await Task.WhenAny(_failure.Task, heartbeats, stopRequested.Task).ConfigureAwait(false);
                if (first == _failure.Task)
                {
                    failure = await _failure.Task.ConfigureAwait(false);
                }
                else if (first == heartbeats)
                {
                    // Heartbeats end early only by throwing what the consumer cannot get past.
                    await heartbeats.ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (run.IsCancellationRequested)
            {
                // Stopped while joining.
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            await StopGracefullyAsync(membership, joined, heartbeats, heartbeatsStop).ConfigureAwait(false);
            if (failure is not null)
            {
                ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    // Readers stop first (handlers cancelled), then what they processed is checkpointed while the
    // member still heartbeats, then the member leaves, so its shards move at once.
    private async Task StopGracefullyAsync(GroupMembership membership, bool joined, Task heartbeats, CancellationTokenSource heartbeatsStop)
    {
        using var deadline = new CancellationTokenSource(_context.Options.ShutdownTimeout, _context.Time);
        List<ShardReader> readers;
        List<Task> runs;
        lock (_lock)
        {
            _stopping = true;
            readers = [.. _readers.Values];
            runs = [.. _lastRunOfShard.Values];
        }

        foreach (var reader in readers)
        {
            reader.Stop(ShardReaderStop.Shutdown);
        }

        try
        {
            await Task.WhenAll(runs).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ConsumerLog.StopTimedOut(_context.Logger, MemberId, _context.Options.ShutdownTimeout.TotalMilliseconds);
        }

        if (!_context.Policy.IsManual)
        {
            // A reader that failed (its handler threw) still holds its lease: what it processed before counts.
            foreach (var reader in readers.Where(r => r.StopReason is ShardReaderStop.Shutdown or ShardReaderStop.Failed && r.HasFinished && !r.HasEnded))
            {
                try
                {
                    await reader.CheckpointProcessedAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StreamsException or OperationCanceledException or ObjectDisposedException)
                {
                    ConsumerLog.StopStepFailed(_context.Logger, MemberId, $"the last checkpoint of shard {reader.ShardId}", ex);
                }
            }
        }

        await heartbeatsStop.CancelAsync().ConfigureAwait(false);
        try
        {
            await heartbeats.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamsException or ObjectDisposedException)
        {
            // Already the run's failure.
        }

        try
        {
            if (joined)
            {
                await membership.LeaveAsync(deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is StreamsException or OperationCanceledException or ObjectDisposedException)
        {
            ConsumerLog.StopStepFailed(_context.Logger, MemberId, "LeaveGroup", ex);
        }

        lock (_lock)
        {
            _readers.Clear();
            foreach (var reader in _allReaders)
            {
                reader.Dispose();
            }
        }
    }

    private void OnLeases(IReadOnlyList<ShardLease> leases, long generation)
    {
        var lost = new List<ShardReader>();
        lock (_lock)
        {
            var held = _readers.ToDictionary(p => p.Key, p => p.Value.Epoch, StringComparer.Ordinal);
            var changes = LeaseChanges.Between(held, leases);
            foreach (var shardId in changes.Lost)
            {
                lost.Add(_readers[shardId]);
                _readers.Remove(shardId);
            }

            if (!_stopping && _deliver is { } deliver)
            {
                foreach (var lease in changes.Acquired)
                {
                    var reader = new ShardReader(_context, this, lease);
                    _readers[lease.ShardId] = reader;
                    _allReaders.Add(reader);

                    // A new reader of a shard starts only once the previous one finished, so handler calls of a shard never overlap.
                    var predecessor = _lastRunOfShard.TryGetValue(lease.ShardId, out var previous) ? previous : Task.CompletedTask;
                    _lastRunOfShard[lease.ShardId] = Task.Run(() => reader.RunAsync(predecessor, deliver, OnShardEnded, OnReaderFailed));
                }
            }
        }

        foreach (var reader in lost.Where(r => !r.HasEnded))
        {
            reader.Stop(ShardReaderStop.LeaseLost);
            ConsumerLog.ReaderStopped(_context.Logger, MemberId, reader.ShardId, reader.Epoch, reader.StopReason);
        }
    }

    private void OnRevoked(ShardReaderStop reason)
    {
        List<ShardReader> readers;
        lock (_lock)
        {
            readers = [.. _readers.Values];
            _readers.Clear();
        }

        foreach (var reader in readers.Where(r => !r.HasEnded))
        {
            reader.Stop(reason);
            ConsumerLog.ReaderStopped(_context.Logger, MemberId, reader.ShardId, reader.Epoch, reader.StopReason);
        }
    }

    private void OnShardEnded(ShardReader reader)
    {
        GroupMembership? membership;
        lock (_lock)
        {
            membership = _membership;
        }

        membership?.WakeUp();
    }

    private void OnReaderFailed(ShardReader reader, Exception exception)
    {
        ConsumerLog.ReaderFailed(_context.Logger, MemberId, reader.ShardId, exception);
        _failure.TrySetResult(exception);
    }
}
