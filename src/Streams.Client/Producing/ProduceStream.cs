using System.Collections.Concurrent;
using System.Threading.Channels;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;

namespace Streams.Client.Producing;

/// <summary>
/// One Produce stream to one node, carrying the batches of every shard that node leads: written in
/// order by its own loop (a slow node holds up no other), answered by attempt id. Once broken (the
/// node went away, the server ended the stream, an answer took too long) every batch sent or queued
/// on it is handed back as failed without a verdict, exactly once, and the producer opens another.
/// </summary>
internal sealed class ProduceStream
{
    private readonly Channel<(ShardQueue Queue, ProducerBatch Batch)> _writes =
        Channel.CreateUnbounded<(ShardQueue, ProducerBatch)>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly ConcurrentDictionary<ulong, (ShardQueue Queue, ProducerBatch Batch)> _pending = new();
    private readonly Action<ShardQueue, ProducerBatch, BatchAcknowledgement?, Exception?> _answered;
    private readonly CancellationTokenSource _cancel;
    private readonly AsyncDuplexStreamingCall<ProducerBatch, BatchAcknowledgement> _call;
    private readonly TimeProvider _time;
    private Exception? _broken;
    private long _lastAnswer;

    /// <summary>Opens the stream and starts its loops.</summary>
    /// <param name="client">The client whose channel to <paramref name="address"/> carries it.</param>
    /// <param name="address">The node.</param>
    /// <param name="answered">Called once per batch handed to <see cref="TrySend"/>: with its answer, or with why it has none.</param>
    /// <param name="stopping">Ends the stream when the producer stops.</param>
    public ProduceStream(StreamsClient client, Uri address, Action<ShardQueue, ProducerBatch, BatchAcknowledgement?, Exception?> answered, CancellationToken stopping)
    {
        Address = address;
        _answered = answered;
        _time = client.Time;
        _lastAnswer = _time.GetTimestamp();
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _call = client.OpenProduceStream(address, _cancel.Token);
        Completion = RunAsync();
    }

    /// <summary>The node.</summary>
    public Uri Address { get; }

    /// <summary>Broken: it takes no more batches.</summary>
    public bool IsBroken => Volatile.Read(ref _broken) is not null;

    /// <summary>Completes once both loops ended and every batch was handed back.</summary>
    public Task Completion { get; }

    /// <summary>Queues a batch (its <see cref="ProducerBatch.AttemptId"/> set) to be written; false when the stream is broken.</summary>
    public bool TrySend(ShardQueue queue, ProducerBatch batch) => !IsBroken && _writes.Writer.TryWrite((queue, batch));

    /// <summary>When the node last answered a batch (or the stream was opened): a <see cref="TimeProvider"/> timestamp.</summary>
    public long LastAnswer => Volatile.Read(ref _lastAnswer);

    /// <summary>The timestamp of the oldest batch written and not yet answered, or <see cref="long.MaxValue"/>.</summary>
    public long OldestUnanswered()
    {
        var oldest = long.MaxValue;
        foreach (var (_, (_, batch)) in _pending)
        {
            oldest = Math.Min(oldest, batch.SentTimestamp);
        }

        return oldest;
    }

    /// <summary>Adds the batches written and not yet answered to <paramref name="output"/>.</summary>
    public void CopyUnansweredTo(List<(ShardQueue Queue, ProducerBatch Batch)> output)
    {
        foreach (var (_, item) in _pending)
        {
            output.Add(item);
        }
    }

    /// <summary>Gives up waiting for attempt <paramref name="attemptId"/>: it is handed back with <paramref name="reason"/> (a late answer is ignored).</summary>
    public void GiveUp(ulong attemptId, Exception reason)
    {
        if (_pending.TryRemove(attemptId, out var item))
        {
            _answered(item.Queue, item.Batch, null, reason);
        }
    }

    /// <summary>Breaks the stream: what is queued or unanswered on it is handed back with <paramref name="reason"/>.</summary>
    public void Break(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _broken, reason, null) is not null)
        {
            return;
        }

        _writes.Writer.TryComplete();
        _cancel.Cancel();
    }

    private async Task RunAsync()
    {
        // Both loops run until the stream breaks; the reader's end breaks it too.
        var writing = WriteLoopAsync();
        var reading = ReadLoopAsync();
        await Task.WhenAll(writing, reading).ConfigureAwait(false);

        // Nothing can be added now: the writer is completed and its loop is done.
        var reason = Unknown(Volatile.Read(ref _broken));
        while (_writes.Reader.TryRead(out var queued))
        {
            _answered(queued.Queue, queued.Batch, null, reason);
        }

        FailPending(reason);
        _call.Dispose();
        _cancel.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            var reader = _writes.Reader;
            while (await reader.WaitToReadAsync(_cancel.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    // Listed before it is written: the answer may come before WriteAsync returns.
                    _pending[item.Batch.AttemptId] = item;
                    await _call.RequestStream.WriteAsync(item.Batch, _cancel.Token).ConfigureAwait(false);
                }
            }
        }
#pragma warning disable CA1031 // Any failure breaks the stream; its batches are handed back.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Break(ex);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_cancel.Token).ConfigureAwait(false))
            {
                var answer = _call.ResponseStream.Current;
                Volatile.Write(ref _lastAnswer, _time.GetTimestamp());
                if (_pending.TryRemove(answer.BatchId, out var item))
                {
                    if (answer.ErrorCode.Length > 0)
                    {
                        _answered(item.Queue, item.Batch, null, Refusal(answer));
                    }
                    else
                    {
                        _answered(item.Queue, item.Batch, answer, null);
                    }
                }
            }

            Break(new StreamsException(StatusCode.Unavailable, StreamsErrors.Unavailable, $"The node at {Address} ended the Produce stream."));
        }
#pragma warning disable CA1031 // Any failure breaks the stream; its batches are handed back.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Break(ex);
        }
    }

    private void FailPending(Exception reason)
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var item))
            {
                _answered(item.Queue, item.Batch, null, reason);
            }
        }
    }

    // What the producer sees for a batch the broken stream leaves unanswered: no verdict, retry.
    private StreamsException Unknown(Exception? reason) =>
        reason is StreamsException { StatusCode: StatusCode.Unavailable } unavailable
            ? unavailable
            : new StreamsException(StatusCode.Unavailable, StreamsErrors.Unavailable, $"The Produce stream to {Address} broke ({reason?.Message ?? "closed"}); the batch may or may not have been written.", reason);

    // A batch refused as a whole: the error name, with the status the unary call would have had.
    private static StreamsException Refusal(BatchAcknowledgement answer)
    {
        var status = answer.ErrorCode switch
        {
            StreamsErrors.InvalidArgument => StatusCode.InvalidArgument,
            StreamsErrors.ResourceNotFound => StatusCode.NotFound,
            StreamsErrors.OutOfOrderSequence or StreamsErrors.ResourceInUse => StatusCode.FailedPrecondition,
            StreamsErrors.LimitExceeded or StreamsErrors.ProvisionedThroughputExceeded => StatusCode.ResourceExhausted,
            StreamsErrors.InternalFailure => StatusCode.Internal,
            _ => StatusCode.Unavailable,
        };
        return new StreamsException(status, answer.ErrorCode, $"{status} {answer.ErrorCode}: {answer.ErrorMessage}");
    }
}
