using System.Threading.Channels;
using Streams.Client;
using Streams.Client.Api;
using Streams.V1;

namespace Streams.Server.Firehose;

/// <summary>
/// One delivery stream on one node: a member of the delivery stream's consumer group that
/// heartbeats, and a <see cref="ShardDelivery"/> per shard it leases. A shard whose lease moved
/// away is stopped; a newly leased shard starts only after this node's previous delivery of it
/// finished, so one node never writes a shard twice at once. When heartbeats fail for most of the
/// session timeout the worker stops its shards itself, before the group hands them to others.
/// </summary>
internal sealed class DeliveryWorker : IAsyncDisposable
{
    private static readonly TimeSpan _retryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan _leaveTimeout = TimeSpan.FromSeconds(10);

    private readonly DeliveryContext _context;
    private readonly InitialPosition _initialPosition;
    private readonly Dictionary<string, RunningShard> _shards = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    /// <summary>A worker; <see cref="Start"/> starts it.</summary>
    /// <param name="context">The delivery stream's shared parts.</param>
    /// <param name="initialPosition">Where the group starts on shards without a checkpoint.</param>
    /// <param name="versionId">The delivery stream's version this worker was made for.</param>
    public DeliveryWorker(DeliveryContext context, InitialPosition initialPosition, long versionId)
    {
        _context = context;
        _initialPosition = initialPosition;
        VersionId = versionId;
    }

    /// <summary>The delivery stream's version this worker delivers with.</summary>
    public long VersionId { get; }

    /// <summary>Starts the worker in the background.</summary>
    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Stops the shard deliveries (objects under way stay pending for the next holder) and leaves the group.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        _stop.Dispose();
        _context.Target.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var joined = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var join = await _context.Client.JoinGroupAsync(new JoinGroupRequest
                    {
                        StreamName = _context.SourceStreamName,
                        GroupName = _context.GroupName,
                        MemberId = _context.MemberId,
                        SessionTimeoutMs = (int)_context.Options.SessionTimeout.TotalMilliseconds,
                        InitialPosition = _initialPosition,
                    }, cancellationToken).ConfigureAwait(false);
                    joined = true;
                    FirehoseLog.Joined(_context.Logger, _context.Settings.DeliveryStreamName, _context.MemberId, join.Leases.Count);
                    Apply(join.Leases, cancellationToken);
                    await HeartbeatAsync(TimeSpan.FromMilliseconds(Math.Max(100, join.HeartbeatIntervalMs)), cancellationToken).ConfigureAwait(false);
                }
                catch (StreamsException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // The source stream missing or not active, a cluster without a leader, a limit:
                    // stop delivering and try again shortly.
                    await StopShardsAsync().ConfigureAwait(false);
                    FirehoseLog.JoinFailed(_context.Logger, _context.Settings.DeliveryStreamName, ex.Message, _retryDelay.TotalMilliseconds);
                    await Task.Delay(_retryDelay, _context.Time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            // Leaving while the shards stop hands them over sooner; a shard still finishing its
            // last write is fenced like any former holder, and its object is the pending one.
            await Task.WhenAll(StopShardsAsync(), joined ? LeaveAsync() : Task.CompletedTask).ConfigureAwait(false);
        }
    }

    // Heartbeats until the member is refused (then the caller joins again).
    private async Task HeartbeatAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var lastSuccess = _context.Time.GetUtcNow();
        var fenceAfter = _context.Options.SessionTimeout * 0.8;
        while (true)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(interval);
                try
                {
                    await _wake.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The interval passed.
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            Reap();
            try
            {
                var response = await _context.Client.HeartbeatAsync(new HeartbeatRequest
                {
                    StreamName = _context.SourceStreamName,
                    GroupName = _context.GroupName,
                    MemberId = _context.MemberId,
                }, cancellationToken).ConfigureAwait(false);
                lastSuccess = _context.Time.GetUtcNow();
                Apply(response.Leases, cancellationToken);
            }
            catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.LeaseLost)
            {
                FirehoseLog.MemberExpired(_context.Logger, _context.Settings.DeliveryStreamName, _context.MemberId, ex.Message);
                await StopShardsAsync().ConfigureAwait(false);
                return;
            }
            catch (StreamsException ex) when (!cancellationToken.IsCancellationRequested)
            {
                FirehoseLog.HeartbeatFailed(_context.Logger, _context.Settings.DeliveryStreamName, ex.Message);
                if (_context.Time.GetUtcNow() - lastSuccess > fenceAfter)
                {
                    // The group will give the shards to others soon: stop writing them first.
                    await StopShardsAsync().ConfigureAwait(false);
                }
            }
        }
    }

    // Stops the deliveries whose lease is gone (or changed epoch) and starts one per new lease.
    private void Apply(IEnumerable<ShardLease> leases, CancellationToken cancellationToken)
    {
        var current = leases.ToDictionary(l => l.ShardId, StringComparer.Ordinal);
        foreach (var (shardId, running) in _shards)
        {
            if (!current.TryGetValue(shardId, out var lease) || lease.Epoch != running.Delivery.Epoch)
            {
                running.Stop.Cancel();
            }
        }

        foreach (var lease in current.Values)
        {
            if (_shards.TryGetValue(lease.ShardId, out var running) && running.Delivery.Epoch == lease.Epoch)
            {
                continue;
            }

            var delivery = new ShardDelivery(_context, lease);
            var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _shards[lease.ShardId] = new RunningShard(delivery, stop, RunShardAsync(delivery, running, stop.Token));
        }
    }

    private async Task RunShardAsync(ShardDelivery delivery, RunningShard? predecessor, CancellationToken cancellationToken)
    {
        if (predecessor is not null)
        {
            await predecessor.Task.ConfigureAwait(false);
            predecessor.Stop.Dispose();
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        _context.Metrics.Track(delivery, _context.Settings.DeliveryStreamName);
        try
        {
            if (await delivery.RunAsync(cancellationToken).ConfigureAwait(false))
            {
                // The shard ended: heartbeat at once to be given its children.
                _wake.Writer.TryWrite(true);
            }
        }
#pragma warning disable CA1031 // A delivery that fails stops its shard only; the lease lapses or moves, and the shard starts again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            FirehoseLog.ShardFailed(_context.Logger, _context.Settings.DeliveryStreamName, delivery.ShardId, ex);
        }
        finally
        {
            _context.Metrics.Forget(delivery);
            delivery.Dispose();
        }
    }

    // Forgets deliveries that finished (ended shards, failures), so a lease handed out again starts anew.
    private void Reap()
    {
        foreach (var (shardId, running) in _shards.Where(pair => pair.Value.Task.IsCompleted).ToList())
        {
            running.Stop.Dispose();
            _shards.Remove(shardId);
        }
    }

    private async Task StopShardsAsync()
    {
        foreach (var running in _shards.Values)
        {
            await running.Stop.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_shards.Values.Select(r => r.Task)).ConfigureAwait(false);
        foreach (var running in _shards.Values)
        {
            running.Stop.Dispose();
        }

        _shards.Clear();
    }

    private async Task LeaveAsync()
    {
        using var deadline = new CancellationTokenSource(_leaveTimeout);
        try
        {
            await _context.Leave(deadline.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Leaving is a courtesy: the session expires anyway.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            FirehoseLog.LeaveFailed(_context.Logger, _context.Settings.DeliveryStreamName, ex.Message);
        }
    }

    private sealed record RunningShard(ShardDelivery Delivery, CancellationTokenSource Stop, Task Task);
}
