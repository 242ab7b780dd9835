using Streams.Client;
using Streams.Client.Consuming;
using Streams.V1;

namespace Streams.Server.Firehose;

/// <summary>
/// One delivery stream on one node: a member of the delivery stream's consumer group (through the
/// SDK consumer's <see cref="GroupMembership"/>), and a <see cref="ShardDelivery"/> per shard it
/// leases. A shard whose lease moved away is stopped; a newly leased shard starts only after this
/// node's previous delivery of it finished, so one node never writes a shard twice at once. When
/// heartbeats keep failing, the membership revokes every lease before the session can lapse on the
/// server, and the worker stops its shards before the group hands them to others.
/// </summary>
internal sealed class DeliveryWorker : IAsyncDisposable
{
    private static readonly TimeSpan _retryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan _leaveTimeout = TimeSpan.FromSeconds(10);

    private readonly DeliveryContext _context;
    private readonly InitialPosition _initialPosition;
    private readonly Dictionary<string, RunningShard> _shards = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private GroupMembership? _membership;

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
        // The SDK consumer's membership: joins, heartbeats when the server suggests, passes on every
        // answer's leases, rejoins after LeaseLost, and revokes everything locally before the
        // session can lapse when heartbeats keep failing.
        var options = new ConsumerOptions
        {
            StreamName = _context.SourceStreamName,
            GroupName = _context.GroupName,
            MemberId = _context.MemberId,
            SessionTimeout = _context.Options.SessionTimeout,
            InitialPosition = _initialPosition,
        };
        var membership = new GroupMembership(
            new ConsumerContext(_context.Client, options, _context.MemberId, _context.Logger),
            (leases, _) => Apply(leases, cancellationToken),
            _ => StopShards());
        _membership = membership;
        var joined = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await membership.JoinAsync(cancellationToken).ConfigureAwait(false);
                    joined = true;
                    await membership.RunAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (StreamsException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // The source stream missing, a limit, a bad argument: stop delivering and try
                    // again shortly (the stream may be created again).
                    StopShards();
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
            StopShards();
            await Task.WhenAll(Task.WhenAll(_shards.Values.Select(r => r.Task)), joined ? LeaveAsync() : Task.CompletedTask).ConfigureAwait(false);
            Reap();
        }
    }

    // Stops the deliveries whose lease is gone (or changed epoch) and starts one per new lease.
    private void Apply(IEnumerable<ShardLease> leases, CancellationToken cancellationToken)
    {
        Reap();
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
                _membership?.WakeUp();
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

    // Stops every delivery; each finishes on its own (its lease gone, its object pending) and is
    // reaped, while a shard leased again starts only after its previous delivery finished.
    private void StopShards()
    {
        foreach (var running in _shards.Values)
        {
            running.Stop.Cancel();
        }
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
