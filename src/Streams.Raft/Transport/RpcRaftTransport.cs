using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Raft.Messages;

namespace Streams.Raft.Transport;

/// <summary>
/// Sends Raft messages to peers over gRPC (<c>streams.raft.v1.RaftTransport/Send</c>). Per
/// destination node, one bounded queue and one loop that packs everything queued, across groups,
/// into one batch per call; that is where heartbeats between two nodes are coalesced. Messages to
/// unknown or unreachable peers are dropped and counted, never logged one by one.
/// </summary>
public sealed class RpcRaftTransport : IRaftTransport, IAsyncDisposable
{
    /// <summary>The meter name of the transport's instruments (shared with the runtime).</summary>
    public const string MeterName = Runtime.RaftHost.MeterName;

    private readonly ConcurrentDictionary<long, PeerSender> _senders = new();
    private readonly RpcRaftTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private long _messagesSent;
    private long _messagesDropped;
    private long _failedBatches;
    private int _disposed;

    /// <summary>Creates a transport; loops start on the first message to each peer.</summary>
    /// <param name="nodeId">This node's id (the sender of every message).</param>
    /// <param name="peers">The address book, read before every batch.</param>
    /// <param name="options">Settings; defaults when null. Validated here.</param>
    /// <param name="timeProvider">The clock for deadlines and pauses; the system clock when null.</param>
    /// <param name="loggerFactory">Logs peers becoming unreachable and reachable; none when null.</param>
    /// <param name="meterFactory">Creates the <see cref="MeterName"/> meter; a standalone meter when null.</param>
    public RpcRaftTransport(long nodeId, RaftPeers peers, RpcRaftTransportOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nodeId);
        ArgumentNullException.ThrowIfNull(peers);
        _options = options ?? new RpcRaftTransportOptions();
        _options.Validate();
        NodeId = nodeId;
        Peers = peers;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RpcRaftTransport>();
        var meterOptions = new MeterOptions(MeterName) { Tags = [new("streams.raft.node", nodeId)] };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(meterOptions) ?? new Meter(meterOptions);
        _meter.CreateObservableCounter("streams.raft.transport.messages.sent", () => MessagesSent, unit: "{message}", description: "Raft messages delivered to peers.");
        _meter.CreateObservableCounter("streams.raft.transport.messages.dropped", () => MessagesDropped, unit: "{message}", description: "Raft messages dropped: unknown or unreachable peer, or a full queue.");
        _meter.CreateObservableCounter("streams.raft.transport.batches.failed", () => FailedBatches, unit: "{batch}", description: "Batch calls to peers that failed.");
    }

    /// <summary>This node's id.</summary>
    public long NodeId { get; }

    /// <summary>The address book.</summary>
    public RaftPeers Peers { get; }

    /// <summary>Messages delivered to peers (acknowledged batches).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>Messages dropped: unknown or unreachable peer, full queue, failed call.</summary>
    public long MessagesDropped => Interlocked.Read(ref _messagesDropped);

    /// <summary>Batch calls that failed.</summary>
    public long FailedBatches => Interlocked.Read(ref _failedBatches);

    /// <inheritdoc/>
    public void Send(long groupId, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Volatile.Read(ref _disposed) != 0 || message.To == NodeId)
        {
            CountDropped(1);
            return;
        }

        if (!_senders.TryGetValue(message.To, out var sender))
        {
            if (!Peers.TryGetAddress(message.To, out _))
            {
                CountDropped(1);
                return;
            }

            sender = _senders.GetOrAdd(message.To, static (id, self) => new PeerSender(id, self, self._options, self._timeProvider, self._logger), this);
            sender.EnsureStarted(_stopping.Token);
        }

        sender.Enqueue(groupId, message);
    }

    /// <summary>Stops every sender loop (queued messages are dropped) and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var sender in _senders.Values)
        {
            await sender.Loop.ConfigureAwait(false);
            sender.Dispose();
        }

        _stopping.Dispose();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal void CountSent(int count) => Interlocked.Add(ref _messagesSent, count);

    internal void CountDropped(int count) => Interlocked.Add(ref _messagesDropped, count);

    internal void CountFailedBatch() => Interlocked.Increment(ref _failedBatches);
}
