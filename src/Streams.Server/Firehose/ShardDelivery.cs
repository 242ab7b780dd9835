using System.Diagnostics;
using Streams.Client;
using Streams.Client.Api;
using Streams.Client.Consuming;
using Streams.Rpc;
using Streams.Server.Firehose.Output;
using Streams.Server.Firehose.Targets;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Firehose;

/// <summary>
/// Delivers one leased shard: reads it in order, buffers its records, and writes each buffer as one
/// object in two phases. First it prepares a checkpoint at the buffer's last sequence number (the
/// group keeps it as pending), then writes the object under the key its records name, then makes
/// the checkpoint. A lease that starts with a pending checkpoint first rebuilds exactly the records
/// up to it and writes them again under the same key, before any size or time limit applies; so an
/// object cut short by a crash is rewritten whole, never split differently, and no record lands in
/// two objects. Uploads are retried with backoff until they succeed or the lease is lost.
/// </summary>
internal sealed class ShardDelivery : IDisposable
{
    private static readonly TimeSpan _finalReportTimeout = TimeSpan.FromSeconds(5);

    private readonly DeliveryContext _context;
    private readonly ShardLease _lease;
    private readonly DeliveryBuffer _buffer;
    private readonly TagList _tags;
    private readonly Lock _lock = new();
    private string? _pending;
    private string? _lastRead;
    private long _millisBehindLatest;
    private DeliveryCounters _unreported;
    private string _lastError = "";
    private DateTimeOffset _lastErrorAt;
    private DateTimeOffset _lastReportAt;

    /// <summary>A delivery of <paramref name="lease"/>'s shard; <see cref="RunAsync"/> starts it.</summary>
    /// <param name="context">The delivery stream's shared parts.</param>
    /// <param name="lease">The lease: shard, epoch, checkpoint, and any pending checkpoint.</param>
    public ShardDelivery(DeliveryContext context, ShardLease lease)
    {
        _context = context;
        _lease = lease;
        _buffer = new DeliveryBuffer(context.Settings);
        _pending = lease.PendingCheckpoint.Length > 0 ? lease.PendingCheckpoint : null;
        _lastRead = lease.Checkpoint.Length > 0 ? lease.Checkpoint : null;
        _tags = new TagList { { "delivery_stream", context.Settings.DeliveryStreamName }, { "shard", lease.ShardId } };
    }

    /// <summary>The shard delivered.</summary>
    public string ShardId => _lease.ShardId;

    /// <summary>The lease's epoch.</summary>
    public long Epoch => _lease.Epoch;

    /// <summary>The age of the oldest record not yet delivered, in milliseconds.</summary>
    public long LagMillis
    {
        get
        {
            lock (_lock)
            {
                var buffered = _buffer.OldestArrival is { } oldest ? (long)(_context.Time.GetUtcNow() - oldest).TotalMilliseconds : 0;
                return Math.Max(0, Math.Max(buffered, _millisBehindLatest));
            }
        }
    }

    /// <summary>Records read and not yet delivered.</summary>
    public long LagRecords
    {
        get
        {
            lock (_lock)
            {
                return _buffer.Count;
            }
        }
    }

    /// <summary>
    /// Delivers until the shard's end (true: checkpointed with shard_end), the lease is lost, or
    /// <paramref name="cancellationToken"/> is cancelled (false).
    /// </summary>
    /// <param name="cancellationToken">Stops the delivery; an object not yet written stays pending for the next holder.</param>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        FirehoseLog.ShardStarted(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, Epoch, _lease.Checkpoint, _pending ?? "");
        try
        {
            return await DeliverAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StreamsException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // The source stream was deleted: the worker waits for one of the name to be created again.
            FirehoseLog.SourceMissing(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, ex.Message);
            return false;
        }
        catch (LeaseLostException)
        {
            FirehoseLog.LeaseLost(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, Epoch);
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            // The last figures, also when stopping: bounded, so a node without a controller leader still stops.
            using var deadline = new CancellationTokenSource(_finalReportTimeout);
            await ReportAsync(force: true, deadline.Token).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _buffer.Dispose();

    private async Task<bool> DeliverAsync(CancellationToken cancellationToken)
    {
        var iterator = await OpenIteratorAsync(cancellationToken).ConfigureAwait(false);
        var failures = 0;
        while (true)
        {
            GetRecordsResponse response;
            try
            {
                response = await _context.Client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = _context.Options.MaxRecordsPerRead }, _context.SourceStreamName, ShardId, cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.ExpiredIterator)
            {
                // A long upload outlived the iterator: go on after the last record read.
                iterator = await OpenIteratorAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (StreamsException ex) when (ex.StatusCode is not (StatusCode.InvalidArgument or StatusCode.NotFound))
            {
                var delay = _context.BackoffAfter(++failures);
                FirehoseLog.ReadFailed(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _context.Time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            lock (_lock)
            {
                _millisBehindLatest = response.MillisBehindLatest;
            }

            foreach (var record in response.Records)
            {
                await AddAsync(record, cancellationToken).ConfigureAwait(false);
            }

            if (response.NextShardIterator.Length == 0)
            {
                await EndShardAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }

            iterator = response.NextShardIterator;
            var now = _context.Time.GetUtcNow();
            if (_pending is null && _buffer.IsDue(now))
            {
                await FlushAsync(prepared: false, cancellationToken).ConfigureAwait(false);
            }

            await ReportAsync(force: false, cancellationToken).ConfigureAwait(false);
            if (response.Records.Count == 0)
            {
                var wait = _pending is null ? _buffer.UntilDue(now) : _context.Options.IdleDelay;
                await Task.Delay(wait < _context.Options.IdleDelay ? wait : _context.Options.IdleDelay, _context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task AddAsync(Record record, CancellationToken cancellationToken)
    {
        if (_pending is not null && SequenceNumberOrder.IsAfter(record.SequenceNumber, _pending))
        {
            // The pending object's last record is gone (trimmed by retention before it was
            // rewritten): write what is left of it, under the key those records give.
            FirehoseLog.PendingRecordMissing(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, _pending, record.SequenceNumber);
            if (!_buffer.IsEmpty)
            {
                await FlushAsync(prepared: false, cancellationToken).ConfigureAwait(false);
            }

            _pending = null;
        }

        lock (_lock)
        {
            _buffer.Add(record, _context.Time.GetUtcNow());
        }

        _lastRead = record.SequenceNumber;
        if (_pending is not null)
        {
            if (record.SequenceNumber == _pending)
            {
                // The object the previous holder prepared, rebuilt record for record: write it again.
                await FlushAsync(prepared: true, cancellationToken).ConfigureAwait(false);
                _pending = null;
            }
        }
        else if (_buffer.IsFull)
        {
            await FlushAsync(prepared: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EndShardAsync(CancellationToken cancellationToken)
    {
        if (!_buffer.IsEmpty)
        {
            await FlushAsync(prepared: _pending is not null && _pending == _buffer.LastSequenceNumber, cancellationToken).ConfigureAwait(false);
        }

        await CheckpointAsync(new CheckpointRequest { ShardEnd = true }, cancellationToken).ConfigureAwait(false);
        FirehoseLog.ShardEnded(_context.Logger, _context.Settings.DeliveryStreamName, ShardId);
    }

    // Prepare (unless the previous holder did), write the objects, make the checkpoint.
    private async Task FlushAsync(bool prepared, CancellationToken cancellationToken)
    {
        var last = _buffer.LastSequenceNumber!;
        if (!prepared)
        {
            await CheckpointAsync(new CheckpointRequest { SequenceNumber = last, Prepare = true }, cancellationToken).ConfigureAwait(false);
        }

        long bytes = 0;
        var objects = 0;
        if (_buffer.Records.RecordCount > 0)
        {
            bytes += await UploadAsync(_context.Settings.KeyOf(ShardId, _buffer.Records), _buffer.Records, cancellationToken).ConfigureAwait(false);
            objects++;
        }

        if (_buffer.Errors.RecordCount > 0)
        {
            bytes += await UploadAsync(_context.Settings.ErrorKeyOf(ShardId, _buffer.Errors), _buffer.Errors, cancellationToken).ConfigureAwait(false);
            objects++;
        }

        await CheckpointAsync(new CheckpointRequest { SequenceNumber = last }, cancellationToken).ConfigureAwait(false);
        var delivered = new DeliveryCounters(objects, _buffer.Records.RecordCount, bytes, _buffer.Errors.RecordCount, 0);
        _context.Metrics.Delivered(delivered, _tags);
        lock (_lock)
        {
            _unreported += delivered;
            _buffer.Reset();
        }

        FirehoseLog.Delivered(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, delivered.Records, delivered.Bytes, last);
    }

    private async Task<long> UploadAsync(string key, DeliveryObjectBuilder builder, CancellationToken cancellationToken)
    {
        var content = builder.Finish();
        var failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await _context.Target.PutObjectAsync(key, content.Bytes, cancellationToken).ConfigureAwait(false);
                return content.Length;
            }
            catch (DeliveryTargetException ex)
            {
                var delay = _context.BackoffAfter(++failures);
                FirehoseLog.UploadFailed(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, key, ex.Message, delay.TotalMilliseconds);
                _context.Metrics.UploadFailed(_tags);
                lock (_lock)
                {
                    _unreported += new DeliveryCounters(0, 0, 0, 0, 1);
                    _lastError = $"{ex.Code}: {ex.Message}";
                    _lastErrorAt = _context.Time.GetUtcNow();
                }

                await ReportAsync(force: false, cancellationToken).ConfigureAwait(false);
                await Task.Delay(delay, _context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // A checkpoint under this lease: transient failures are retried (the client retries some
    // itself); a refusal because the lease moved on ends the delivery.
    private async Task CheckpointAsync(CheckpointRequest request, CancellationToken cancellationToken)
    {
        request.StreamName = _context.SourceStreamName;
        request.GroupName = _context.GroupName;
        request.MemberId = _context.MemberId;
        request.ShardId = ShardId;
        request.LeaseEpoch = Epoch;
        var failures = 0;
        while (true)
        {
            try
            {
                await _context.Client.CheckpointAsync(request, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.LeaseLost)
            {
                throw new LeaseLostException(ex.Message);
            }
            catch (StreamsException ex) when (ex.StatusCode is not StatusCode.InvalidArgument)
            {
                var delay = _context.BackoffAfter(++failures);
                FirehoseLog.CheckpointFailed(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> OpenIteratorAsync(CancellationToken cancellationToken)
    {
        var request = new GetShardIteratorRequest { StreamName = _context.SourceStreamName, ShardId = ShardId };
        var start = _lease.StartingPosition;
        if (_lastRead is not null)
        {
            request.ShardIteratorType = ShardIteratorType.AfterSequenceNumber;
            request.StartingSequenceNumber = _lastRead;
        }
        else
        {
            request.ShardIteratorType = start?.Type ?? ShardIteratorType.TrimHorizon;
            request.StartingSequenceNumber = start?.SequenceNumber ?? "";
        }

        var failures = 0;
        while (true)
        {
            try
            {
                var response = await _context.Client.GetShardIteratorAsync(request, cancellationToken).ConfigureAwait(false);
                return response.ShardIterator;
            }
            catch (StreamsException ex) when (ex.StatusCode is not (StatusCode.InvalidArgument or StatusCode.NotFound))
            {
                var delay = _context.BackoffAfter(++failures);
                FirehoseLog.ReadFailed(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // The controller hears of progress at most once per report interval (and at the end), so the
    // log grows by a bounded number of entries whatever the object rate.
    private async Task ReportAsync(bool force, CancellationToken cancellationToken)
    {
        var now = _context.Time.GetUtcNow();
        DeliveryProgressCommand command;
        DeliveryCounters counters;
        lock (_lock)
        {
            if (!force && now - _lastReportAt < _context.Options.ReportInterval)
            {
                return;
            }

            counters = _unreported;
            _unreported = default;
            _lastReportAt = now;
            command = new DeliveryProgressCommand
            {
                DeliveryStreamName = _context.Settings.DeliveryStreamName,
                ShardId = ShardId,
                Worker = _context.NodeId,
                ObjectsDelivered = counters.Objects,
                RecordsDelivered = counters.Records,
                BytesDelivered = counters.Bytes,
                RecordsFailed = counters.RecordsFailed,
                UploadFailures = counters.UploadFailures,
                LastError = _lastError,
                LastErrorUnixMs = _lastError.Length > 0 ? _lastErrorAt.ToUnixTimeMilliseconds() : 0,
                TimestampUnixMs = now.ToUnixTimeMilliseconds(),
            };
            _lastError = "";
        }

        command.LagMillis = LagMillis;
        command.LagRecords = LagRecords;
        try
        {
            await _context.Report(command, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Progress is informative: a report that fails is added to the next one, never fatal.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            lock (_lock)
            {
                _unreported += counters;
            }

            FirehoseLog.ReportFailed(_context.Logger, _context.Settings.DeliveryStreamName, ShardId, ex.Message);
        }
    }
}
