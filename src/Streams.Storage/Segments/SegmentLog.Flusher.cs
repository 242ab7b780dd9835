using System.Threading.Channels;

namespace Streams.Storage.Segments;

/// <summary>Durability: group commit, interval flushes, and waiting for them.</summary>
public sealed partial class SegmentLog
{
    private readonly Channel<bool>? _flushRequests;
    private readonly CancellationTokenSource _flusherStop = new();
    private Task _flusher = Task.CompletedTask;
    private long _fsyncCount;

    /// <summary>
    /// Every batch with an index at most this survives a crash. Under
    /// <see cref="DurabilityPolicy.Never"/> durability is left to the OS and this equals
    /// <see cref="LastIndex"/>: it promises nothing about a power loss.
    /// </summary>
    public long DurableIndex => _options.Durability == DurabilityPolicy.Never
        ? LastIndex
        : Math.Min(Volatile.Read(ref _durableIndex), LastIndex);

    /// <summary>
    /// fsyncs of the active segment so far by the flusher and <see cref="FlushAsync"/> (not those of
    /// rolling, opening or disposing): a metric, where group commit shows as many appends per fsync.
    /// </summary>
    public long FsyncCount => Volatile.Read(ref _fsyncCount);

    /// <summary>
    /// Forces every batch appended before the call to disk now, whatever the durability policy,
    /// and publishes it as durable (Never included: for example before taking a snapshot).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The log was disposed.</exception>
    /// <exception cref="IOException">The fsync failed (the log then refuses appends).</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        await Task.Run(
            () =>
            {
                if (!Flush())
                {
                    ThrowIfUnusable();
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes when <see cref="DurableIndex"/> ≥ <paramref name="index"/>: after the fsync that
    /// covers the batch (Always: the next group commit, which this call requests; Interval: the
    /// next tick), at once under Never once the batch is appended. Fails if an fsync fails or the
    /// log is disposed first.
    /// </summary>
    public ValueTask WaitForDurableAsync(long index, CancellationToken cancellationToken = default)
    {
        if (DurableIndex >= index)
        {
            return ValueTask.CompletedTask;
        }

        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            return ValueTask.FromException(new IOException(fault.Message, fault));
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(SegmentLog)));
        }

        if (_options.Durability == DurabilityPolicy.Never)
        {
            return _appendWaiters.WaitAsync(index, cancellationToken);
        }

        var wait = _durableWaiters.WaitAsync(index, cancellationToken);
        RequestFlush();
        return wait;
    }

    /// <summary>
    /// One flush, as the flusher does it: takes LastIndex, fsyncs the active segment outside the
    /// write lock (appends go on meanwhile), publishes DurableIndex and wakes its waiters. Segments
    /// that rolled were fsynced when they rolled. Returns false when the log is disposed or faulted.
    /// </summary>
    internal bool Flush()
    {
        Segment segment;
        long target;
        long epoch;
        lock (_writeLock)
        {
            if (_disposed != 0 || _fault is not null)
            {
                return false;
            }

            target = _lastIndex;
            if (target <= _durableIndex || _segments.Length == 0)
            {
                return true;
            }

            segment = _segments[^1];
            if (!segment.TryAcquire())
            {
                return true;
            }

            epoch = _rangeEpoch;
        }

        try
        {
            RandomAccess.FlushToDisk(segment.Handle);
            Interlocked.Increment(ref _fsyncCount);
        }
        catch (IOException e)
        {
            Fault(segment.LogPath, e);
            return false;
        }
        finally
        {
            segment.Release();
        }

        lock (_writeLock)
        {
            // A truncation meanwhile may have replaced what was flushed: the next flush covers it.
            if (epoch == _rangeEpoch && target > _durableIndex)
            {
                Volatile.Write(ref _durableIndex, target);
            }
        }

        _durableWaiters.Advance(DurableIndex);
        return true;
    }

    private void RequestFlush() => _flushRequests?.Writer.TryWrite(true);

    private void StartFlusher()
    {
        _flusher = _options.Durability switch
        {
            DurabilityPolicy.Always => Task.Run(() => RunGroupCommitAsync(_flusherStop.Token)),
            // The timer exists when OpenAsync returns, so a test clock moved right after sees it.
            DurabilityPolicy.Interval => RunIntervalFlushAsync(new PeriodicTimer(_options.FlushInterval, _timeProvider), _flusherStop.Token),
            _ => Task.CompletedTask,
        };
    }

    private async Task RunGroupCommitAsync(CancellationToken cancellationToken)
    {
        var requests = _flushRequests!.Reader;
        try
        {
            // Appends made while an fsync runs leave a request behind: the next round covers them all.
            while (await requests.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (requests.TryRead(out _))
                {
                }

                if (!Flush())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunIntervalFlushAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        using var owned = timer;
        await Task.Yield();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!Flush())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task StopFlusherAsync()
    {
        await _flusherStop.CancelAsync().ConfigureAwait(false);
        _flushRequests?.Writer.TryComplete();
        await _flusher.ConfigureAwait(false);
        _flusherStop.Dispose();
    }

    private void Fault(string filePath, IOException exception)
    {
        var fault = new IOException($"fsync of {filePath} failed: the log accepts no more appends, and batches not yet durable may be lost; reopen the log to recover.", exception);
        lock (_writeLock)
        {
            _fault ??= fault;
        }

        SegmentLogLog.FlushFailed(_logger, exception, filePath);
        _durableWaiters.Fail(fault);
    }
}
