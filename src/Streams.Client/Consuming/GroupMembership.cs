using System.Threading.Channels;
using Streams.V1;

namespace Streams.Client.Consuming;

/// <summary>
/// A consumer's membership of its group: JoinGroup, then a heartbeat every interval the server
/// suggests, each answer's leases passed on; LeaveGroup at the end. A LeaseLost answer (the server
/// expired or forgot the member) revokes every lease and joins again. When heartbeats keep failing
/// until half an interval before the session can lapse on the server (measured from when the last
/// acknowledged heartbeat was sent, which is no later than the server's own start of the session),
/// every lease is revoked locally: a consumer cut off from the cluster stops processing its shards
/// before they can go to another member.
/// </summary>
internal sealed class GroupMembership
{
    // A heartbeat call gets at least this long, even right before the session lapses.
    private static readonly TimeSpan _minCallTimeout = TimeSpan.FromMilliseconds(100);

    private readonly ConsumerContext _context;
    private readonly Action<IReadOnlyList<ShardLease>, long> _onLeases;
    private readonly Action<ShardReaderStop> _onRevoked;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private TimeSpan _sessionTimeout;
    private TimeSpan _heartbeatInterval;
    private DateTimeOffset _fenceAt;
    private bool _joined;
    private bool _fenced;
    private long _generation;

    /// <summary>Creates the membership; nothing is sent before <see cref="JoinAsync"/>.</summary>
    /// <param name="context">The consumer's shared parts.</param>
    /// <param name="onLeases">Receives the member's leases and the group's generation after every join and heartbeat.</param>
    /// <param name="onRevoked">Told that every lease is gone (LeaseLost: the server says so; Fenced: the session must have lapsed).</param>
    public GroupMembership(ConsumerContext context, Action<IReadOnlyList<ShardLease>, long> onLeases, Action<ShardReaderStop> onRevoked)
    {
        _context = context;
        _onLeases = onLeases;
        _onRevoked = onRevoked;
        _sessionTimeout = context.Options.SessionTimeout;
        _heartbeatInterval = context.Options.SessionTimeout / 3;
    }

    /// <summary>True while the member believes itself alive: joined, and not fenced off (see the class summary).</summary>
    public bool IsMember
    {
        get
        {
            lock (_lock)
            {
                return _joined && !_fenced;
            }
        }
    }

    /// <summary>The group's generation at the last answer.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    /// <summary>
    /// Joins the group, trying again while the cluster is unreachable or the stream not yet ACTIVE;
    /// throws a <see cref="StreamsException"/> the consumer cannot get past (no such stream, bad argument).
    /// </summary>
    /// <param name="cancellationToken">Gives up.</param>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        var request = new JoinGroupRequest
        {
            StreamName = _context.StreamName,
            GroupName = _context.GroupName,
            MemberId = _context.MemberId,
            SessionTimeoutMs = (int)_context.Options.SessionTimeout.TotalMilliseconds,
            InitialPosition = _context.Options.InitialPosition,
        };
        for (var failures = 0; ;)
        {
            var sentAt = _context.Time.GetUtcNow();
            JoinGroupResponse response;
            try
            {
                response = await _context.Client.JoinGroupAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (StreamsException ex) when (ConsumerFailures.IsTransient(ex) || ex.ErrorCode == Api.StreamsErrors.ResourceInUse)
            {
                // ResourceInUse: the stream is still being created; it becomes joinable once ACTIVE.
                var delay = _context.BackoffAfter(++failures);
                ConsumerLog.JoinFailed(_context.Logger, _context.MemberId, _context.GroupName, _context.StreamName, ex.StatusCode, ex.ErrorCode, delay.TotalMilliseconds, ex);
                await Task.Delay(delay, _context.Time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            lock (_lock)
            {
                if (response.SessionTimeoutMs > 0)
                {
                    _sessionTimeout = TimeSpan.FromMilliseconds(response.SessionTimeoutMs);
                }

                _heartbeatInterval = response.HeartbeatIntervalMs > 0 ? TimeSpan.FromMilliseconds(response.HeartbeatIntervalMs) : _sessionTimeout / 3;
                _fenceAt = FenceTime(sentAt);
                _joined = true;
                _fenced = false;
                _generation = response.Generation;
            }

            ConsumerLog.Joined(_context.Logger, _context.MemberId, _context.GroupName, _context.StreamName, response.Leases.Count, _sessionTimeout.TotalMilliseconds, _heartbeatInterval.TotalMilliseconds);
            _onLeases(response.Leases, response.Generation);
            return;
        }
    }

    /// <summary>
    /// Heartbeats until cancelled (which ends it without an exception). Throws what the consumer
    /// cannot get past (the stream was deleted, the client was disposed).
    /// </summary>
    /// <param name="cancellationToken">Ends the heartbeats.</param>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var request = new HeartbeatRequest { StreamName = _context.StreamName, GroupName = _context.GroupName, MemberId = _context.MemberId };
        try
        {
            while (true)
            {
                await WaitForNextBeatAsync(cancellationToken).ConfigureAwait(false);
                var sentAt = _context.Time.GetUtcNow();
                using var timeout = new CancellationTokenSource(CallTimeout(sentAt), _context.Time);
                using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                try
                {
                    var response = await _context.Client.HeartbeatAsync(request, call.Token).ConfigureAwait(false);
                    lock (_lock)
                    {
                        _fenceAt = FenceTime(sentAt);
                        _fenced = false;
                        _generation = response.Generation;
                    }

                    ConsumerLog.LeasesReceived(_context.Logger, _context.MemberId, _context.GroupName, response.Generation, response.Leases.Count);
                    _onLeases(response.Leases, response.Generation);
                }
                catch (StreamsException ex) when (ConsumerFailures.IsLeaseLost(ex))
                {
                    ConsumerLog.Rejoining(_context.Logger, _context.MemberId, _context.GroupName, ex.Message);
                    lock (_lock)
                    {
                        _joined = false;
                    }

                    _onRevoked(ShardReaderStop.LeaseLost);
                    await JoinAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex is OperationCanceledException || (ex is StreamsException s && ConsumerFailures.IsTransient(s))))
                {
                    OnHeartbeatFailed(ex is StreamsException failure ? $"{failure.StatusCode} {failure.ErrorCode}" : "no answer in time");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    /// <summary>Leaves the group: its leases go to the others at once instead of after the session timeout.</summary>
    /// <param name="cancellationToken">Gives up.</param>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _context.Client.LeaveGroupAsync(new LeaveGroupRequest { StreamName = _context.StreamName, GroupName = _context.GroupName, MemberId = _context.MemberId }, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _joined = false;
        }

        ConsumerLog.Left(_context.Logger, _context.MemberId, _context.GroupName, _context.StreamName);
    }

    /// <summary>Heartbeats now rather than at the next interval (a shard ended: its children may be leasable).</summary>
    public void WakeUp() => _wake.Writer.TryWrite(true);

    private void OnHeartbeatFailed(string reason)
    {
        var now = _context.Time.GetUtcNow();
        bool fence;
        TimeSpan remaining;
        lock (_lock)
        {
            remaining = _fenceAt - now;
            fence = !_fenced && remaining <= TimeSpan.Zero;
            _fenced |= fence;
        }

        ConsumerLog.HeartbeatFailed(_context.Logger, _context.MemberId, reason, Math.Max(0, remaining.TotalMilliseconds));
        if (fence)
        {
            ConsumerLog.Fenced(_context.Logger, _context.MemberId, (_sessionTimeout - (_heartbeatInterval / 2)).TotalMilliseconds, _sessionTimeout.TotalMilliseconds);
            _onRevoked(ShardReaderStop.Fenced);
        }
    }

    // Half an interval before the session can lapse: the server started it no earlier than this
    // member sent the heartbeat, and sweeps expired members only at a later command.
    private DateTimeOffset FenceTime(DateTimeOffset sentAt) => sentAt + _sessionTimeout - (_heartbeatInterval / 2);

    // The interval, or less when the fencing time comes sooner (so fencing is on time), or a wake-up.
    private async Task WaitForNextBeatAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_lock)
        {
            var untilFence = _fenceAt - _context.Time.GetUtcNow();
            wait = _fenced || untilFence >= _heartbeatInterval ? _heartbeatInterval : untilFence;
        }

        if (wait > TimeSpan.Zero)
        {
            using var interval = new CancellationTokenSource(wait, _context.Time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interval.Token);
            try
            {
                await _wake.Reader.WaitToReadAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The interval passed.
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        _wake.Reader.TryRead(out _);
    }

    // A heartbeat may take until the fencing time (at least a little), and no longer than an interval.
    private TimeSpan CallTimeout(DateTimeOffset now)
    {
        lock (_lock)
        {
            var untilFence = _fenceAt - now;
            var timeout = _fenced || untilFence > _heartbeatInterval ? _heartbeatInterval : untilFence;
            return timeout < _minCallTimeout ? _minCallTimeout : timeout;
        }
    }
}
