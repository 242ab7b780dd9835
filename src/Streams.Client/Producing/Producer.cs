using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Streams.Client.Api;
using Streams.Client.Retries;
using Streams.Client.Routing;
using Streams.Client.Telemetry;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>
/// Writes records to one stream in batches: each record is routed on the client to its shard by its
/// partition key (or explicit hash key), batched per shard by count, size and linger time, and sent
/// to the shard's leader (over a Produce stream per node, or with PutRecords), a few batches per
/// shard in flight. Memory is bounded
/// (<see cref="ProducerOptions.BufferMaxBytes"/>): <see cref="SendAsync"/> waits while it is full.
/// With idempotence (the default) retries never write a batch twice and records of one partition key
/// are written in the order they were sent, through retries and leader changes. Each record's
/// <see cref="RecordReceipt.Completion"/> completes with its shard and sequence number.
/// Thread-safe; dispose it to flush what is left.
/// </summary>
/// <remarks>
/// When a shard is split or merged, the records waiting for it are routed again to its children,
/// ahead of anything newer for them. Batches already in flight when it closed are retried as they
/// were, and the server places each in a child by itself; the children do not know the parent's
/// producer sequence, so a later batch of those may land before an earlier one that is refused
/// (its records now span two children) and routed again by the producer: with more than one batch
/// in flight per shard, records of a key may be written out of order around a split or merge (with
/// <see cref="ProducerOptions.MaxInFlightBatchesPerShard"/> at 1 they are not). For the same reason a
/// batch whose first attempt's outcome was unknown, retried across such a close, may be written twice.
/// </remarks>
public sealed class Producer : IAsyncDisposable
{
    /// <summary>What each record counts against <see cref="ProducerOptions.BufferMaxBytes"/> beyond its encoded bytes: its completion and bookkeeping.</summary>
    public const int RecordOverheadBytes = 100;

    /// <summary>The longest partition key, in characters.</summary>
    public const int MaxPartitionKeyLength = 256;

    /// <summary>The largest record's data, in bytes (1 MiB).</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    // Checks of a shard map that still shows open a shard that refused a batch as invalid, before
    // the refusal is believed: a node's metadata may lag the split that caused it.
    private const int SuspectMapChecks = 3;

    // A Produce stream whose node answered nothing this long while batches wait on it is broken and
    // its batches sent again: the node or the connection hangs.
    private static readonly TimeSpan _silenceTimeout = TimeSpan.FromSeconds(10);

    // An attempt unanswered this long is given up and sent again (an election takes a second or two;
    // a node that keeps retrying a write for longer answers the repeat from the same write).
    private static readonly TimeSpan _attemptTimeout = TimeSpan.FromSeconds(5);

    // An attempt still unanswered this long after a later batch of its shard was answered lost its
    // answer: a node forwarding a Produce batch does not answer it when the leader refuses it (a
    // server bug); and a shard answers its batches in order, give or take the moment they are written.
    private static readonly TimeSpan _overtakenAfter = TimeSpan.FromMilliseconds(500);

    private readonly StreamsClient _client;
    private readonly ProducerOptions _options;
    private readonly BatchingLimits _limits;
    private readonly ByteBudget _budget;
    private readonly FlushTracker _flushes = new();
    private readonly RetryPolicy _retry;
    private readonly ILogger _logger;
    private readonly ClientMetrics _metrics;
    private readonly KeyValuePair<string, object?> _streamTag;
    private readonly byte[] _streamNameUtf8;
    private readonly Func<ulong> _newProducerId;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();

    // Taken once: loops still winding down after DisposeAsync read it, never the disposed source.
    private readonly CancellationToken _stoppingToken;
    private readonly Channel<(ShardQueue Queue, ProducerBatch Batch)> _sends =
        Channel.CreateUnbounded<(ShardQueue, ProducerBatch)>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly Task _sendLoop;
    private readonly ConcurrentDictionary<Uri, ProduceStream> _streams = new();
    private readonly Action<ShardQueue, ProducerBatch, BatchAcknowledgement?, Exception?> _answered;
    private readonly ITimer? _answerCheck;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Under _lock: the open shards of _map in hash-key order, each with its queue; the queues of
    // closed shards (and of records waiting for a map) until their records are routed again.
    private readonly List<ProducerBatch> _scratch = [];
    private readonly List<ShardQueue> _closing = [];
    private QueueRoute[] _routes = [];
    private ShardMap? _map;
    private ShardQueue? _unrouted;
    private bool _refreshing;
    private bool _refreshAgain;
    private bool _stopped;
    private int _disposing;
    private int _sending;

    // Only the send loop numbers attempts.
    private ulong _attemptIds;

    /// <summary>Creates a producer; it reads the stream's shard map in the background right away.</summary>
    /// <param name="client">The client to send through; it must outlive the producer.</param>
    /// <param name="options">The settings; they are validated here.</param>
    public Producer(StreamsClient client, ProducerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _limits = BatchingLimits.From(options, client.Time);
        _budget = new ByteBudget(options.BufferMaxBytes);
        _retry = new RetryPolicy(client.Options.InitialRetryDelay, client.Options.MaxRetryDelay);
        _logger = client.LoggerFactory.CreateLogger<Producer>();
        _metrics = client.Metrics;
        _streamTag = new KeyValuePair<string, object?>("stream", options.StreamName);
        _streamNameUtf8 = Encoding.UTF8.GetBytes(options.StreamName);
        _stoppingToken = _stopping.Token;
        _newProducerId = NewProducerId;
        _answered = Answered;
        if (options.Transport == ProducerTransport.ProduceStream)
        {
            _answerCheck = client.Time.CreateTimer(static state => ((Producer)state!).CheckAnswers(), this, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        }

        _sendLoop = Task.Run(SendLoopAsync);
        lock (_lock)
        {
            RequestRefreshLocked();
        }
    }

    /// <summary>The stream written to.</summary>
    public string StreamName => _options.StreamName;

    /// <summary>The settings.</summary>
    public ProducerOptions Options => _options;

    /// <summary>Bytes of records held now (waiting or in flight), as counted against <see cref="ProducerOptions.BufferMaxBytes"/>.</summary>
    public long BufferedBytes => _budget.Used;

    private TimeProvider Time => _client.Time;

    /// <summary>
    /// Takes a record: checks it, waits while the buffer is full, copies it, and returns a receipt
    /// whose <see cref="RecordReceipt.Completion"/> completes once the record is written. The data may
    /// be reused once this returns.
    /// </summary>
    /// <param name="partitionKey">Routes the record (MD5, as Kinesis does); 1 to 256 characters. Records of one key keep their order.</param>
    /// <param name="data">The record's data, up to 1 MiB; copied before this returns.</param>
    /// <param name="explicitHashKey">A decimal hash key in [0, 2^128 - 1] that routes the record instead of the partition key; null for none.</param>
    /// <param name="cancellationToken">Cancels the wait for room in the buffer; once taken, a record is not cancelled.</param>
    /// <exception cref="ArgumentException">The record is beyond a limit; the message says which.</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public ValueTask<RecordReceipt> SendAsync(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposing) != 0, this);
        var keyLength = CheckRecord(partitionKey, data, explicitHashKey);
        var entryLength = RecordEncoding.EntryLength(data.Length, keyLength, explicitHashKey?.Length ?? 0);
        long accounted = entryLength + RecordOverheadBytes;
        if (accounted > _budget.Capacity)
        {
            throw new ArgumentException($"The record takes {accounted:#,0} bytes with its keys and bookkeeping, more than ProducerOptions.BufferMaxBytes ({_budget.Capacity:#,0}); raise BufferMaxBytes or send a smaller record.", nameof(data));
        }

        if (_budget.TryReserve(accounted))
        {
            return new ValueTask<RecordReceipt>(Take(partitionKey, data.Span, explicitHashKey, keyLength, entryLength, accounted));
        }

        return SendWhenRoomAsync(partitionKey, data, explicitHashKey, keyLength, entryLength, accounted, cancellationToken);
    }

    /// <summary>Sends a record and waits until it is written: <see cref="SendAsync"/>, then its completion.</summary>
    /// <param name="partitionKey">Routes the record; 1 to 256 characters.</param>
    /// <param name="data">The record's data, up to 1 MiB.</param>
    /// <param name="explicitHashKey">A decimal hash key that routes the record instead of the partition key; null for none.</param>
    /// <param name="cancellationToken">Cancels the waits (for room, then for the acknowledgement); the record may still be written.</param>
    public async Task<RecordResult> PutAsync(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var receipt = await SendAsync(partitionKey, data, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return await receipt.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends every record taken so far without waiting for its linger, and completes once each of them
    /// is written or failed. Records sent meanwhile do not hold it up.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait, not the records.</param>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.Task.IsCompleted, this);
        return StartFlush().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops taking records, waits up to <see cref="ProducerOptions.DisposeTimeout"/> for those taken to
    /// be written, then fails the rest with an <see cref="ObjectDisposedException"/> that says whether
    /// each was sent. The client is not disposed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
        {
            await _disposed.Task.ConfigureAwait(false);
            return;
        }

        _budget.Close(new ObjectDisposedException(nameof(Producer), "The producer is being disposed: it takes no more records."));
        try
        {
            await StartFlush().WaitAsync(_options.DisposeTimeout, Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // What is left fails below.
        }

        FailEverythingLeft();
        if (_answerCheck is not null)
        {
            await _answerCheck.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _sends.Writer.TryComplete();
        await _sendLoop.ConfigureAwait(false);
        foreach (var stream in _streams.Values)
        {
            await stream.Completion.WaitAsync(TimeSpan.FromSeconds(5), Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // The sends still running were cancelled; they end promptly and hand their buffers back.
        var giveUpAt = Time.GetUtcNow() + TimeSpan.FromSeconds(5);
        while (Volatile.Read(ref _sending) > 0 && Time.GetUtcNow() < giveUpAt)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), Time, CancellationToken.None).ConfigureAwait(false);
        }

        _stopping.Dispose();
        _disposed.TrySetResult();
    }

    private static int CheckRecord(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (partitionKey.Length == 0)
        {
            throw new ArgumentException($"partitionKey is empty; give every record a partition key of 1 to {MaxPartitionKeyLength} characters.", nameof(partitionKey));
        }

        if (partitionKey.Length > MaxPartitionKeyLength)
        {
            throw new ArgumentException($"partitionKey has {partitionKey.Length} characters; the limit is {MaxPartitionKeyLength}: use a shorter key (a hash of a long one, say).", nameof(partitionKey));
        }

        if (data.Length > MaxRecordBytes)
        {
            throw new ArgumentException($"data has {data.Length:#,0} bytes; the limit is {MaxRecordBytes:#,0} bytes (1 MiB) per record: split it, or store it elsewhere and send a reference.", nameof(data));
        }

        if (!string.IsNullOrEmpty(explicitHashKey) && !HashKey.TryParse(explicitHashKey, out _))
        {
            throw new ArgumentException(HashKey.ParseError(nameof(explicitHashKey), explicitHashKey) + " Leave it null to route by the partition key.", nameof(explicitHashKey));
        }

        return Encoding.UTF8.GetByteCount(partitionKey);
    }

    private static bool IsRefusal(StreamsException exception) => exception.StatusCode is
        StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.PermissionDenied or StatusCode.Unauthenticated
        or StatusCode.OutOfRange or StatusCode.Unimplemented or StatusCode.AlreadyExists;

    private async ValueTask<RecordReceipt> SendWhenRoomAsync(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey, int keyLength, int entryLength, long accounted, CancellationToken cancellationToken)
    {
        await _budget.ReserveAsync(accounted, cancellationToken).ConfigureAwait(false);
        return Take(partitionKey, data.Span, explicitHashKey, keyLength, entryLength, accounted);
    }

    // Room is reserved: encode the record into its shard's open batch.
    private RecordReceipt Take(string partitionKey, ReadOnlySpan<byte> data, string? explicitHashKey, int keyLength, int entryLength, long accounted)
    {
        Span<byte> key = stackalloc byte[keyLength];
        Encoding.UTF8.GetBytes(partitionKey, key);
        var hashKey = string.IsNullOrEmpty(explicitHashKey) ? HashKey.FromUtf8(key) : HashKey.Parse(explicitHashKey, nameof(explicitHashKey));
        var completion = new TaskCompletionSource<RecordResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_stopped)
            {
                // Room was reserved just before the disposal failed everything left.
                _budget.Release(accounted);
                throw new ObjectDisposedException(nameof(Producer), "The producer was disposed: it takes no more records.");
            }

            var now = Time.GetTimestamp();
            var queue = QueueForLocked(hashKey);
            var batch = queue.BatchFor(entryLength, now, _flushes.Generation, out var opened);
            if (opened)
            {
                batch.StreamNameUtf8 = _streamNameUtf8;
                _flushes.Opened(batch.Generation);
            }

            RecordEncoding.WriteEntry(batch.Add(completion, hashKey, entryLength), data, key, string.IsNullOrEmpty(explicitHashKey) ? null : explicitHashKey);
            if (queue.Added(batch) || opened)
            {
                PumpLocked(queue, now);
            }
        }

        _metrics.ProducerBufferedBytes.Add(accounted, _streamTag);
        return new RecordReceipt(completion.Task);
    }

    private Task StartFlush()
    {
        lock (_lock)
        {
            var now = Time.GetTimestamp();
            foreach (var route in _routes)
            {
                route.Queue.SealOpen();
                PumpLocked(route.Queue, now);
            }

            foreach (var queue in _closing)
            {
                queue.SealOpen();
            }

            return _flushes.Flush();
        }
    }

    // Under _lock: the queue of the open shard holding hashKey, or of records waiting for a map.
    private ShardQueue QueueForLocked(UInt128 hashKey)
    {
        var routes = _routes;
        int low = 0, high = routes.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (hashKey < routes[mid].Start)
            {
                high = mid - 1;
            }
            else if (hashKey > routes[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                return routes[mid].Queue;
            }
        }

        // No map yet, or one with a gap (changing under a resharding): wait for the next.
        if (_unrouted is null)
        {
            _unrouted = new ShardQueue(null, UInt128.Zero, UInt128.MaxValue, _limits, _newProducerId);
            _closing.Add(_unrouted);
        }

        if (_map is not null)
        {
            RequestRefreshLocked();
        }

        return _unrouted;
    }

    // Under _lock: hands the queue's sendable batches to the send loop and arms its timer.
    private void PumpLocked(ShardQueue queue, long now)
    {
        if (_stopped)
        {
            return;
        }

        _scratch.Clear();
        var wake = queue.TakeSendable(now, _scratch);
        foreach (var batch in _scratch)
        {
            Interlocked.Increment(ref _sending);
            if (!_sends.Writer.TryWrite((queue, batch)))
            {
                Interlocked.Decrement(ref _sending);
            }
        }

        _scratch.Clear();
        if (wake == long.MaxValue || wake >= queue.TimerDue)
        {
            return;
        }

        queue.TimerDue = wake;
        var delay = TimeSpan.FromSeconds((double)Math.Max(0, wake - now) / Time.TimestampFrequency);
        if (queue.Timer is null)
        {
            queue.Timer = Time.CreateTimer(
                static state =>
                {
                    var (producer, q) = ((Producer, ShardQueue))state!;
                    producer.OnTimer(q);
                },
                (this, queue),
                delay,
                Timeout.InfiniteTimeSpan);
        }
        else
        {
            queue.Timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer(ShardQueue queue)
    {
        lock (_lock)
        {
            if (!_stopped)
            {
                queue.TimerDue = long.MaxValue;
                PumpLocked(queue, Time.GetTimestamp());
            }
        }
    }

    // Starts sends in the order their batches were taken, so that a shard sees a producer's batches in order.
    private async Task SendLoopAsync()
    {
        var reader = _sends.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (_options.Transport == ProducerTransport.PutRecords)
                {
                    _ = SendBatchAsync(item.Queue, item.Batch);
                }
                else
                {
                    await SendOnStreamAsync(item.Queue, item.Batch).ConfigureAwait(false);
                }
            }
        }
    }

    // Hands a batch to the Produce stream of its shard's leader (opening one if need be).
    private async ValueTask SendOnStreamAsync(ShardQueue queue, ProducerBatch batch)
    {
        Uri address;
        try
        {
            address = await _client.ProduceTargetAsync(_options.StreamName, queue.ShardId!, batch.Attempts, _stoppingToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // No map, no node: the batch goes again after a backoff.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Answered(queue, batch, null, ex);
            return;
        }

        batch.AttemptId = ++_attemptIds;
        batch.SentTimestamp = Time.GetTimestamp();
        while (true)
        {
            if (!_streams.TryGetValue(address, out var stream) || stream.IsBroken)
            {
                stream = new ProduceStream(_client, address, _answered, _stoppingToken);
                _streams[address] = stream;
            }

            if (stream.TrySend(queue, batch))
            {
                return;
            }
        }
    }

    // A Produce stream's answer for a batch, or why there is none.
    private void Answered(ShardQueue queue, ProducerBatch batch, BatchAcknowledgement? answer, Exception? error)
    {
        try
        {
            _client.ProduceAnswered(error is null ? "ok" : "failed", batch.SentTimestamp);
            if (error is StreamsException { StatusCode: StatusCode.Unavailable })
            {
                // The node went away or does not lead the shard any more: read the leaders again.
                _client.InvalidateShardMap(_options.StreamName);
            }

            OnAnswer(queue, batch, answer, error);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
        }
    }

    // Every 250 ms: a stream silent too long is broken; an attempt overtaken by a later answer of its
    // shard, or unanswered too long, is given up and sent again.
    private void CheckAnswers()
    {
        var now = Time.GetTimestamp();
        var silent = now - Ticks(_silenceTimeout);
        var overtaken = Ticks(_overtakenAfter);
        var tooLong = Ticks(_attemptTimeout);
        var unanswered = new List<(ShardQueue Queue, ProducerBatch Batch)>();
        var lost = new List<(ulong Attempt, string Why)>();
        foreach (var stream in _streams.Values)
        {
            if (stream.OldestUnanswered() < silent && stream.LastAnswer < silent)
            {
                stream.Break(new TimeoutException($"The node at {stream.Address} answered no batch of the Produce stream within {_silenceTimeout.TotalSeconds:0} s."));
                continue;
            }

            unanswered.Clear();
            lost.Clear();
            stream.CopyUnansweredTo(unanswered);
            lock (_lock)
            {
                foreach (var (queue, batch) in unanswered)
                {
                    var (sentAt, answeredAt) = queue.LatestAnswered;
                    if (batch.State != BatchState.InFlight)
                    {
                        continue;
                    }

                    if (batch.SentAt < sentAt && now - answeredAt > overtaken)
                    {
                        lost.Add((batch.AttemptId, $"answered later batches of the shard but not this one within {_overtakenAfter.TotalMilliseconds:0} ms"));
                    }
                    else if (now - batch.SentTimestamp > tooLong)
                    {
                        lost.Add((batch.AttemptId, $"did not answer this batch within {_attemptTimeout.TotalSeconds:0} s"));
                    }
                }
            }

            foreach (var (attempt, why) in lost)
            {
                stream.GiveUp(attempt, new StreamsException(StatusCode.Unavailable, StreamsErrors.Unavailable, $"The node at {stream.Address} {why}; it is sent again."));
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Time.TimestampFrequency);

    private async Task SendBatchAsync(ShardQueue queue, ProducerBatch batch)
    {
        BatchAcknowledgement? answer = null;
        Exception? error = null;
        try
        {
            answer = await _client.PutBatchAsync(batch, _options.StreamName, queue.ShardId!, _stoppingToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Every failure is an outcome of the batch, decided in OnAnswer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        try
        {
            OnAnswer(queue, batch, answer, error);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
        }
    }

    private void OnAnswer(ShardQueue queue, ProducerBatch batch, BatchAcknowledgement? answer, Exception? error)
    {
        var now = Time.GetTimestamp();
        var finished = new Finished();
        var outcome = "ok";
        lock (_lock)
        {
            // Only the shard's own answers show that an earlier answer is overdue.
            if (batch.SentAt > queue.LatestAnswered.SentAt && (answer is not null || error is StreamsException { StatusCode: not StatusCode.Unavailable }))
            {
                queue.LatestAnswered = (batch.SentAt, now);
            }

            if (batch.State != BatchState.InFlight)
            {
                // DisposeAsync failed its records meanwhile: only its buffers are left to hand back.
                outcome = "abandoned";
                finished.Release = batch;
            }
            else if (answer is not null && answer.Count != batch.RecordCount)
            {
                queue.Refused(batch);
                finished.Fail(batch, new StreamsException(StatusCode.Internal, StreamsErrors.InternalFailure, $"PutRecords of {batch.RecordCount} records was answered with {answer.Count} results."));
                outcome = "refused";
            }
            else if (answer is not null && answer.FailedRecordCount == 0)
            {
                queue.Acknowledged(batch);
                finished.Acknowledge(batch, answer);
                if (WrittenElsewhere(queue, answer))
                {
                    // The shard was closed and the server placed the batch in a successor.
                    queue.Close(seen: true);
                    RequestRefreshLocked();
                }
            }
            else if (answer is not null)
            {
                outcome = OnFailedRecordsLocked(queue, batch, answer, now, finished);
            }
            else
            {
                outcome = OnErrorLocked(queue, batch, error!, now, finished);
            }

            if (finished.Done is { } done)
            {
                _flushes.Finished(done.Generation, finished.Flushes);
            }

            if (queue.CanDrain && _closing.Contains(queue) && queue != _unrouted)
            {
                DrainLocked(queue, now, finished.Flushes);
            }

            PumpLocked(queue, now);
        }

        _metrics.ProducerBatches.Add(1, _streamTag, new KeyValuePair<string, object?>("outcome", outcome));
        finished.Complete(this);
    }

    // Under _lock: a response with failed records. They were not written (the server says so per record).
    private string OnFailedRecordsLocked(ShardQueue queue, ProducerBatch batch, BatchAcknowledgement answer, long now, Finished finished)
    {
        var delay = _retry.DelayBefore(batch.Attempts, _client.NextRandom());
        var notBefore = now + (long)(delay.TotalSeconds * Time.TimestampFrequency);
        AcknowledgedRecord firstFailure = default;
        for (var i = 0; i < answer.Count; i++)
        {
            if (!answer[i].Succeeded)
            {
                firstFailure = answer[i];
                break;
            }
        }

        ProducerLog.Retrying(_logger, batch.Sequence, batch.RecordCount, queue.ShardId!, batch.ProducerId, $"{answer.FailedRecordCount} records failed ({firstFailure.ErrorCode}: {firstFailure.ErrorMessage})", delay.TotalMilliseconds);
        if (answer.FailedRecordCount >= batch.RecordCount)
        {
            queue.RetryAt(batch, notBefore);
            return "retry";
        }

        // Written in part: the written records complete, the others go again in a batch of their own.
        var remainder = new ProducerBatch(now, batch.Generation) { StreamNameUtf8 = _streamNameUtf8 };
        for (var i = 0; i < answer.Count; i++)
        {
            if (!answer[i].Succeeded)
            {
                batch.CopyRecordTo(i, remainder);
            }
        }

        _flushes.Opened(remainder.Generation);
        queue.ReplaceWithRemainder(batch, remainder, notBefore);
        finished.AcknowledgeWritten(batch, answer, remainder.AccountedBytes);
        return "partial";
    }

    // Under _lock: the call failed as a whole.
    private string OnErrorLocked(ShardQueue queue, ProducerBatch batch, Exception error, long now, Finished finished)
    {
        if (error is StreamsException { ErrorCode: StreamsErrors.OutOfOrderSequence } outOfOrder)
        {
            ProducerLog.OutOfOrder(_logger, batch.Sequence, queue.ShardId!, batch.ProducerId, batch.Attempts, outOfOrder.Message);
            var producerId = queue.ProducerId;
            if (queue.OutOfOrder(batch))
            {
                ProducerLog.StartingOver(_logger, producerId, queue.ShardId!, "the oldest unacknowledged batch was refused as out of order");
            }

            return "out_of_order";
        }

        if (error is StreamsException streams && IsRefusal(streams))
        {
            if (streams.StatusCode == StatusCode.InvalidArgument && _limits.Idempotent)
            {
                // Perhaps the shard was split and the batch's records now span two shards: a new
                // map tells. Its records are held meanwhile.
                queue.Suspect(batch, streams);
                RequestRefreshLocked();
                return "suspect";
            }

            queue.Refused(batch);
            ProducerLog.Refused(_logger, batch.RecordCount, queue.ShardId!, _options.StreamName, streams.Message);
            finished.Fail(batch, streams);
            return "refused";
        }

        if (error is StreamsException or RpcException or OperationCanceledException or TimeoutException)
        {
            // UNAVAILABLE after the client's own retries, a throttle, a deadline: the same batch goes again.
            var delay = _retry.DelayBefore(batch.Attempts, _client.NextRandom());
            ProducerLog.Retrying(_logger, batch.Sequence, batch.RecordCount, queue.ShardId!, batch.ProducerId, error.Message, delay.TotalMilliseconds);
            queue.RetryAt(batch, now + (long)(delay.TotalSeconds * Time.TimestampFrequency));
            return "retry";
        }

        // The client was disposed, or a bug: nothing more can be done for these records.
        queue.Refused(batch);
        ProducerLog.Refused(_logger, batch.RecordCount, queue.ShardId!, _options.StreamName, error.Message);
        finished.Fail(batch, error);
        return "refused";
    }

    private static bool WrittenElsewhere(ShardQueue queue, BatchAcknowledgement answer)
    {
        for (var i = 0; i < answer.Count; i++)
        {
            if (!string.Equals(answer[i].ShardId, queue.ShardId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // Under _lock: starts a shard map refresh unless one runs, in which case it goes round once more.
    private void RequestRefreshLocked()
    {
        if (_refreshing)
        {
            _refreshAgain = true;
            return;
        }

        _refreshing = true;
        _refreshAgain = false;
        _ = Task.Run(RefreshLoopAsync);
    }

    private async Task RefreshLoopAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            var again = true;
            var failed = new List<(ProducerBatch Batch, Exception Error)>();
            var flushes = new List<TaskCompletionSource>();
            try
            {
                _client.InvalidateShardMap(_options.StreamName);
                var map = await _client.GetShardMapAsync(_options.StreamName, _stoppingToken).ConfigureAwait(false);
                lock (_lock)
                {
                    again = ApplyMapLocked(map, failed, flushes) || _refreshAgain;
                    _refreshAgain = false;
                    _refreshing = again && !_stoppingToken.IsCancellationRequested;
                }
            }
            catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
            {
                lock (_lock)
                {
                    _refreshing = false;
                }

                return;
            }
            catch (StreamsException ex) when (IsRefusal(ex))
            {
                // The stream does not exist (or may not be written): records waiting for a map fail.
                lock (_lock)
                {
                    if (_unrouted is { } unrouted)
                    {
                        var batches = new List<ProducerBatch>();
                        unrouted.DrainTo(batches);
                        RetireLocked(unrouted, Time.GetTimestamp());
                        foreach (var batch in batches)
                        {
                            failed.Add((batch, ex));
                            _flushes.Finished(batch.Generation, flushes);
                        }
                    }

                    again = _refreshAgain;
                    _refreshAgain = false;
                    _refreshing = again;
                }

                ProducerLog.Refused(_logger, failed.Sum(f => f.Batch.RecordCount), "(no shard yet)", _options.StreamName, ex.Message);
            }
#pragma warning disable CA1031 // Anything else is retried: the records wait meanwhile.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ProducerLog.MapFailed(_logger, _options.StreamName, _retry.DelayBefore(attempt, 0.5).TotalMilliseconds, ex);
            }

            foreach (var (batch, error) in failed)
            {
                FailRecords(batch, error);
            }

            foreach (var flush in flushes)
            {
                flush.TrySetResult();
            }

            if (!again)
            {
                return;
            }

            try
            {
                await Task.Delay(_retry.DelayBefore(Math.Min(attempt, 6), _client.NextRandom()), Time, _stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_lock)
                {
                    _refreshing = false;
                }

                return;
            }
        }
    }

    // Under _lock: routes by a new shard map. Queues of shards it shows closed stop taking records and
    // are drained into the open shards once nothing of theirs can still land; queues of new shards
    // wait for those. Returns true when the map must be read again (it lags what a write showed).
    private bool ApplyMapLocked(ShardMap map, List<(ProducerBatch, Exception)> failed, List<TaskCompletionSource> flushes)
    {
        var again = false;
        var now = Time.GetTimestamp();
        var routes = new List<QueueRoute>(map.OpenShards.Length);
        var previous = _routes;

        // While a split or merge is under way the map lists the children beside their parent, which
        // is still open until sealed: a parent is closing as soon as it has children.
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var shard in map.Shards)
        {
            foreach (var parent in shard.ParentShardIds)
            {
                parents.Add(parent);
            }
        }

        foreach (var route in previous)
        {
            var queue = route.Queue;
            var shard = map.Find(queue.ShardId!);
            if (shard is not { IsOpen: true } || parents.Contains(shard.ShardId))
            {
                queue.Close(seen: shard is not null);
                _closing.Add(queue);
            }
            else if (queue.IsClosing && !queue.ClosedSeen && ++queue.MapChecks >= SuspectMapChecks)
            {
                // Open after all: the refused batches were refused for their own sake.
                var refused = new List<ProducerBatch>();
                queue.Reopen(refused);
                queue.MapChecks = 0;
                foreach (var batch in refused)
                {
                    ProducerLog.SuspectRefused(_logger, queue.ShardId!, _options.StreamName, batch.RecordCount);
                    failed.Add((batch, batch.Refusal!));
                    _flushes.Finished(batch.Generation, flushes);
                }
            }
            else if (queue.IsClosing)
            {
                again = true;
            }
        }

        foreach (var shard in map.OpenShards)
        {
            if (parents.Contains(shard.ShardId))
            {
                continue;
            }

            ShardQueue? queue = null;
            foreach (var route in previous)
            {
                if (route.Queue.ShardId == shard.ShardId)
                {
                    queue = route.Queue;
                    break;
                }
            }

            queue ??= NewQueueLocked(shard);
            routes.Add(new QueueRoute(shard.StartingHashKey, shard.EndingHashKey, queue));
        }

        _routes = [.. routes];
        _map = map;
        ProducerLog.MapApplied(_logger, _options.StreamName, routes.Count);

        foreach (var closing in _closing.ToArray())
        {
            if (closing.CanDrain)
            {
                DrainLocked(closing, now, flushes);
            }
        }

        foreach (var route in _routes)
        {
            PumpLocked(route.Queue, now);
        }

        return again || _unrouted is not null;
    }

    // Under _lock: a queue for a new open shard, blocked by the closed shards' queues overlapping it.
    private ShardQueue NewQueueLocked(ShardRoute shard)
    {
        var queue = new ShardQueue(shard.ShardId, shard.StartingHashKey, shard.EndingHashKey, _limits, _newProducerId);
        foreach (var closing in _closing)
        {
            if (closing.StartingHashKey <= shard.EndingHashKey && shard.StartingHashKey <= closing.EndingHashKey)
            {
                queue.Blockers++;
                closing.Blocked.Add(queue);
            }
        }

        return queue;
    }

    // Under _lock: routes the records of a closed shard's queue again, in order, in front of what the
    // open shards took since; then lets those shards send.
    private void DrainLocked(ShardQueue closing, long now, List<TaskCompletionSource> flushes)
    {
        var batches = new List<ProducerBatch>();
        closing.DrainTo(batches);

        // Out of the routing first: records without an open shard then wait in a fresh queue.
        _closing.Remove(closing);
        if (closing == _unrouted)
        {
            _unrouted = null;
        }

        var targets = new Dictionary<ShardQueue, List<ProducerBatch>>();
        var records = 0;
        foreach (var batch in batches)
        {
            for (var i = 0; i < batch.RecordCount; i++)
            {
                var slot = batch.Record(i);
                var target = QueueForLocked(slot.HashKey);
                if (!targets.TryGetValue(target, out var list))
                {
                    targets[target] = list = [];
                }

                var last = list.Count > 0 ? list[^1] : null;
                if (last is null || last.RecordCount >= _limits.MaxRecords || last.PayloadLength + slot.Length > _limits.MaxBytes)
                {
                    last = new ProducerBatch(now, batch.Generation) { StreamNameUtf8 = _streamNameUtf8 };
                    _flushes.Opened(last.Generation);
                    list.Add(last);
                }

                batch.CopyRecordTo(i, last);
                records++;
            }
        }

        foreach (var batch in batches)
        {
            _flushes.Finished(batch.Generation, flushes);
            batch.Release();
        }

        foreach (var (target, list) in targets)
        {
            target.Prepend(list);
        }

        if (records > 0 && closing.ShardId is { } shard)
        {
            ProducerLog.Rerouted(_logger, shard, _options.StreamName, records, string.Join(", ", targets.Keys.Select(t => t.ShardId ?? "(waiting for a map)")));
        }

        RetireLocked(closing, now);
    }

    // Under _lock: a drained queue leaves; the queues it held back may send.
    private void RetireLocked(ShardQueue closing, long now)
    {
        _closing.Remove(closing);
        if (closing == _unrouted)
        {
            _unrouted = null;
        }

        closing.Timer?.Dispose();
        closing.Timer = null;
        foreach (var blocked in closing.Blocked)
        {
            blocked.Blockers--;
        }

        foreach (var blocked in closing.Blocked)
        {
            PumpLocked(blocked, now);
        }

        closing.Blocked.Clear();
    }

    // Disposal after the flush wait: every record not yet acknowledged fails, saying whether it was sent.
    private void FailEverythingLeft()
    {
        var left = new List<ProducerBatch>();
        var flushes = new List<TaskCompletionSource>();
        lock (_lock)
        {
            _stopped = true;
            var queues = new List<ShardQueue>(_closing);
            foreach (var route in _routes)
            {
                queues.Add(route.Queue);
            }

            foreach (var queue in queues)
            {
                queue.Timer?.Dispose();
                queue.Timer = null;
                queue.CopyAllTo(left);
            }

            _routes = [];
            _closing.Clear();
            _unrouted = null;
            var records = 0;
            foreach (var batch in left)
            {
                records += batch.RecordCount;
                _flushes.Finished(batch.Generation, flushes);
            }

            if (records > 0)
            {
                ProducerLog.DisposedWithRecords(_logger, _options.StreamName, records, _options.DisposeTimeout);
            }

            foreach (var batch in left)
            {
                var sent = batch.Sequence >= 0 || batch.Attempts > 0 || batch.State == BatchState.InFlight;
                var error = new ObjectDisposedException(
                    nameof(Producer),
                    $"The producer of stream '{_options.StreamName}' was disposed before this record was acknowledged: {records} records were left after waiting ProducerOptions.DisposeTimeout ({_options.DisposeTimeout}). "
                    + (sent ? "It was sent, so it may or may not have been written." : "It was not sent, so it was not written.")
                    + " Call FlushAsync before disposing, or raise DisposeTimeout.");

                // Failed here, under the lock: a send still running sees the batch done and only hands its buffers back.
                var inFlight = batch.State == BatchState.InFlight;
                batch.State = BatchState.Done;
                FailRecords(batch, error, release: !inFlight);
            }
        }

        foreach (var flush in flushes)
        {
            flush.TrySetResult();
        }
    }

    // Fails every record of a batch that left its queue, gives its room back, and its buffers unless a send still reads them.
    private void FailRecords(ProducerBatch batch, Exception error, bool release = true)
    {
        for (var i = 0; i < batch.RecordCount; i++)
        {
            batch.Record(i).Completion?.TrySetException(error);
        }

        ReleaseRoom(batch.AccountedBytes);
        _metrics.ProducerRecords.Add(batch.RecordCount, _streamTag, new KeyValuePair<string, object?>("outcome", "failed"));
        // A send still running reads the payload: it hands the buffers back when it ends.
        if (release)
        {
            batch.Release();
        }
    }

    private void ReleaseRoom(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        _budget.Release(bytes);
        _metrics.ProducerBufferedBytes.Add(-bytes, _streamTag);
    }

    private ulong NewProducerId()
    {
        // 63 random bits: the server takes ids up to long.MaxValue; 0 means "not idempotent".
        ulong id;
        do
        {
            var high = (ulong)(_client.NextRandom() * (1UL << 31));
            var low = (ulong)(_client.NextRandom() * (1UL << 32));
            id = (high << 32) | low;
        }
        while (id == 0);
        return id;
    }

    /// <summary>An open shard's hash-key range and its queue.</summary>
    private readonly record struct QueueRoute(UInt128 Start, UInt128 End, ShardQueue Queue);

    /// <summary>What an answer leaves to do once the lock is released: records to complete, room and buffers to give back, flushes done.</summary>
    private sealed class Finished
    {
        private BatchAcknowledgement? _answer;
        private Exception? _error;
        private long _keptBytes;

        /// <summary>The batch that left its queue, if any.</summary>
        public ProducerBatch? Done { get; private set; }

        /// <summary>A batch whose buffers only are handed back.</summary>
        public ProducerBatch? Release { get; set; }

        public List<TaskCompletionSource> Flushes { get; } = [];

        public void Acknowledge(ProducerBatch batch, BatchAcknowledgement answer)
        {
            Done = batch;
            _answer = answer;
        }

        public void AcknowledgeWritten(ProducerBatch batch, BatchAcknowledgement answer, long keptBytes)
        {
            Done = batch;
            _answer = answer;
            _keptBytes = keptBytes;
        }

        public void Fail(ProducerBatch batch, Exception error)
        {
            Done = batch;
            _error = error;
        }

        public void Complete(Producer producer)
        {
            if (Done is { } batch)
            {
                if (_error is not null)
                {
                    producer.FailRecords(batch, _error);
                }
                else if (_answer is { } answer)
                {
                    var written = 0;
                    for (var i = 0; i < batch.RecordCount; i++)
                    {
                        var result = answer[i];
                        if (result.Succeeded)
                        {
                            written++;
                            batch.Record(i).Completion?.TrySetResult(new RecordResult(result.ShardId, result.SequenceNumber));
                        }
                    }

                    producer.ReleaseRoom(batch.AccountedBytes - _keptBytes);
                    producer._metrics.ProducerRecords.Add(written, producer._streamTag, new KeyValuePair<string, object?>("outcome", "ok"));
                    batch.Release();
                }
            }

            Release?.Release();
            foreach (var flush in Flushes)
            {
                flush.TrySetResult();
            }
        }
    }
}
