using System.Threading.Channels;

namespace Streams.Client.Consuming;

/// <summary>
/// Between the shards' readers and <see cref="Consumer.ReadAllAsync"/>'s single enumerator: each
/// reader puts in one batch and waits until the enumerator has moved past its last record; the
/// enumerator hands records out one at a time and counts a record processed when the next one is
/// asked for. Records of a reader that stopped (its lease was lost) are skipped.
/// </summary>
internal sealed class RecordQueue
{
    private readonly Channel<PendingBatch> _batches = Channel.CreateUnbounded<PendingBatch>(new UnboundedChannelOptions { SingleReader = true });
    private PendingBatch? _current;
    private int _next;
    private ConsumedRecord? _handedOut;

    /// <summary>Queues <paramref name="batch"/> and completes once every record of it was processed (or skipped).</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="cancellationToken">The reader's token: it stops waiting when stopped.</param>
    public async ValueTask DeliverAsync(ConsumedRecordBatch batch, CancellationToken cancellationToken)
    {
        var pending = new PendingBatch(batch);
        if (!_batches.Writer.TryWrite(pending))
        {
            // The enumeration is over: nobody will process it.
            throw new OperationCanceledException(cancellationToken);
        }

        await pending.Processed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks the record handed out last as processed (which may checkpoint), then returns the next
    /// one, waiting for it; null once <see cref="Complete"/> was called and nothing is left. Throws
    /// the error <see cref="Complete"/> was given. Called by one enumerator at a time.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<ConsumedRecord?> NextAsync(CancellationToken cancellationToken)
    {
        if (_handedOut is { } previous)
        {
            _handedOut = null;
            if (!previous.Reader.IsStopped)
            {
                await previous.Reader.MarkProcessedAsync(previous, 1, cancellationToken).ConfigureAwait(false);
            }
        }

        while (true)
        {
            if (_current is { } current)
            {
                if (_next < current.Batch.Records.Count && !current.Batch.Reader.IsStopped)
                {
                    _handedOut = current.Batch.Records[_next++];
                    return _handedOut;
                }

                _current = null;
                current.Processed.TrySetResult();
            }

            if (!await _batches.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            if (_batches.Reader.TryRead(out var batch))
            {
                _current = batch;
                _next = 0;
            }
        }
    }

    /// <summary>Ends the queue: the enumerator gets null once it is empty, or <paramref name="error"/>.</summary>
    /// <param name="error">Why the consumer stopped, or null for a graceful stop.</param>
    public void Complete(Exception? error) => _batches.Writer.TryComplete(error);

    private sealed class PendingBatch(ConsumedRecordBatch batch)
    {
        public ConsumedRecordBatch Batch { get; } = batch;

        public TaskCompletionSource Processed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
