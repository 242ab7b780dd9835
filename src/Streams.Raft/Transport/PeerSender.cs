using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Streams.Raft.Messages;
using Streams.Rpc;
using Streams.Rpc.Client;

namespace Streams.Raft.Transport;

/// <summary>
/// The outbound path to one peer: a bounded queue and one loop that sends everything queued as
/// one batch per call, one call at a time (which keeps the order and lets batches grow under
/// load). After a failed call the queue is dropped and, until a growing pause has passed,
/// messages to the peer are dropped at once instead of piling up stale.
/// </summary>
internal sealed class PeerSender : IDisposable
{
    private readonly long _nodeId;
    private readonly RpcRaftTransport _owner;
    private readonly RpcRaftTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Queue<AddressedMessage> _queue = new();
    private readonly List<AddressedMessage> _batch = [];
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private RpcChannel? _channel;
    private long _pausedUntilTimestamp;
    private int _consecutiveFailures;
    private int _started;
    private Task _loop = Task.CompletedTask;

    public PeerSender(long nodeId, RpcRaftTransport owner, RpcRaftTransportOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _nodeId = nodeId;
        _owner = owner;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The loop; completes once the transport stops.</summary>
    public Task Loop => _loop;

    /// <summary>Queues a message; drops it while the peer is paused after a failure, or the oldest when full.</summary>
    public void Enqueue(long groupId, Message message)
    {
        if (Volatile.Read(ref _pausedUntilTimestamp) > _timeProvider.GetTimestamp())
        {
            _owner.CountDropped(1);
            return;
        }

        lock (_lock)
        {
            if (_queue.Count >= _options.MaxQueuedMessagesPerPeer)
            {
                _queue.Dequeue();
                _owner.CountDropped(1);
            }

            _queue.Enqueue(new AddressedMessage(groupId, message));
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>Starts the loop once (a sender that lost a creation race is never started).</summary>
    public void EnsureStarted(CancellationToken stopping)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);
        }
    }

    public void Dispose() => _channel?.Dispose();

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                while (TakeBatch())
                {
                    await SendBatchAsync(stopping).ConfigureAwait(false);
                }
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // The transport is stopping: the call in flight ends cancelled (an RpcException) or
            // the pause ends early; either way the loop is done.
        }
    }

    private bool TakeBatch()
    {
        _batch.Clear();
        long bytes = 0;
        lock (_lock)
        {
            while (_queue.TryPeek(out var next))
            {
                var size = RaftMessageCodec.ApproximateSizeBytes(next.Message);
                if (_batch.Count > 0 && bytes + size > _options.MaxBatchBytes)
                {
                    break;
                }

                _queue.Dequeue();
                _batch.Add(next);
                bytes += size;
            }
        }

        return _batch.Count > 0;
    }

    private async Task SendBatchAsync(CancellationToken stopping)
    {
        var channel = ChannelToPeer();
        if (channel is null)
        {
            _owner.CountDropped(_batch.Count);
            return;
        }

        var batch = RaftMessageCodec.EncodeBatch(_owner.NodeId, _nodeId, CollectionsMarshal.AsSpan(_batch));
        var options = new CallOptions { Deadline = _timeProvider.GetUtcNow() + _options.CallTimeout, CancellationToken = stopping };
        try
        {
            await channel.UnaryCall(RaftTransportMethods.Send, batch, options).ResponseAsync.ConfigureAwait(false);
            _owner.CountSent(_batch.Count);
            if (_consecutiveFailures > 0)
            {
                RaftTransportLog.PeerReachable(_logger, _nodeId, channel.Address, _consecutiveFailures);
                _consecutiveFailures = 0;
            }
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // Whatever failed (refused connection, deadline, reset stream), the batch is lost and
            // Raft will resend what matters; the loop itself must survive.
            await PauseAfterFailureAsync(channel.Address, ex, stopping).ConfigureAwait(false);
        }
    }

    private async Task PauseAfterFailureAsync(Uri address, Exception failure, CancellationToken stopping)
    {
        _consecutiveFailures++;
        var delay = TimeSpan.FromTicks(Math.Min(
            _options.MaxReconnectDelay.Ticks,
            _options.InitialReconnectDelay.Ticks << Math.Min(_consecutiveFailures - 1, 20)));

        // Pause first, then drop what is queued: no new message slips in behind the dropped ones.
        Volatile.Write(ref _pausedUntilTimestamp, _timeProvider.GetTimestamp() + (long)(delay.TotalSeconds * _timeProvider.TimestampFrequency));
        int dropped;
        lock (_lock)
        {
            dropped = _queue.Count;
            _queue.Clear();
        }

        _owner.CountDropped(_batch.Count + dropped);
        _owner.CountFailedBatch();
        if (_consecutiveFailures == 1)
        {
            RaftTransportLog.PeerUnreachable(_logger, _nodeId, address, failure is RpcException rpc ? rpc.Status.ToString() : failure.GetType().Name + ": " + failure.Message);
        }

        await Task.Delay(delay, _timeProvider, stopping).ConfigureAwait(false);
    }

    /// <summary>The channel to the peer's current address (a new one when it moved), or null when it is no longer known.</summary>
    private RpcChannel? ChannelToPeer()
    {
        if (!_owner.Peers.TryGetAddress(_nodeId, out var address))
        {
            return null;
        }

        if (_channel is not null && _channel.Address == address)
        {
            return _channel;
        }

        if (_channel is not null)
        {
            RaftTransportLog.PeerMoved(_logger, _nodeId, _channel.Address, address);
            _channel.Dispose();
        }

        _channel = RpcChannel.ForAddress(address, new RpcChannelOptions
        {
            ConnectTimeout = _options.ConnectTimeout,
            MaxSendMessageSizeBytes = int.MaxValue,
            TimeProvider = _timeProvider,
        });
        return _channel;
    }
}
