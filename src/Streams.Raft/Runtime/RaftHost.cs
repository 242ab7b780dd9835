using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Transport;

namespace Streams.Raft.Runtime;

/// <summary>
/// Many Raft groups on one node (multi-Raft): one transport for all of them, one tick timer, and
/// the routing of received messages to groups by group id (messages for groups not hosted here
/// are dropped). Groups are added and removed at run time. Thread-safe.
/// </summary>
public sealed class RaftHost : IRaftMessageHandler, IAsyncDisposable
{
    /// <summary>The name of the meter of the runtime and transport instruments.</summary>
    public const string MeterName = "Streams.Raft";

    // Each group with the source of its stop token, which the host owns and cancels on removal.
    private readonly ConcurrentDictionary<long, (RaftGroup Group, CancellationTokenSource Stopping)> _groups = new();
    private readonly IRaftTransport _transport;
    private readonly ILoggerFactory _loggerFactory;
    private readonly RaftMetrics _metrics;
    private readonly ITimer _timer;
    private readonly int _seed;
    private int _disposed;

    /// <summary>Creates a host and starts its tick timer.</summary>
    /// <param name="nodeId">This node's id; not 0.</param>
    /// <param name="transport">Sends every group's messages; not owned (dispose it after the host).</param>
    /// <param name="options">Settings; defaults when null. Validated here.</param>
    /// <param name="timeProvider">Drives the tick timer; the system clock when null.</param>
    /// <param name="loggerFactory">For the groups' logs; none when null.</param>
    /// <param name="meterFactory">Creates the <see cref="MeterName"/> meter; a standalone meter when null.</param>
    public RaftHost(long nodeId, IRaftTransport transport, RaftHostOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nodeId);
        ArgumentNullException.ThrowIfNull(transport);
        options ??= new RaftHostOptions();
        options.Validate();
        NodeId = nodeId;
        Options = options;
        _transport = transport;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _seed = options.RandomSeed ?? Random.Shared.Next();
        _metrics = new RaftMetrics(nodeId, meterFactory, MeasureTerms);
        _timer = (timeProvider ?? TimeProvider.System).CreateTimer(static state => ((RaftHost)state!).TickAll(), this, options.TickInterval, options.TickInterval);
    }

    /// <summary>This node's id.</summary>
    public long NodeId { get; }

    /// <summary>The host's settings.</summary>
    public RaftHostOptions Options { get; }

    /// <summary>The groups hosted now.</summary>
    public IReadOnlyCollection<RaftGroup> Groups => [.. _groups.Values.Select(hosted => hosted.Group)];

    /// <summary>
    /// Starts hosting a group: restores the state machine from the stored snapshot when it is
    /// ahead, creates the Raft node from <paramref name="storage"/> and starts its loop.
    /// </summary>
    /// <param name="options">The group's settings; validated here.</param>
    /// <param name="storage">The group's durable Raft state on this node; the group owns it from now on.</param>
    /// <param name="stateMachine">What the group applies committed entries to.</param>
    /// <param name="cancellationToken">Cancels the start (the restore).</param>
    /// <exception cref="InvalidOperationException">The group is hosted already.</exception>
    public async ValueTask<RaftGroup> AddGroupAsync(RaftGroupOptions options, IRaftStorage storage, IStateMachine stateMachine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(stateMachine);
        options.Validate();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_groups.ContainsKey(options.GroupId))
        {
            throw new InvalidOperationException($"Raft group {options.GroupId} is already hosted on node {NodeId}; remove it before adding it again.");
        }

        var logger = _loggerFactory.CreateLogger<RaftGroup>();
        var stopping = new CancellationTokenSource();
        var group = new RaftGroup(NodeId, options, storage, stateMachine, _transport, _metrics, logger, HashCode.Combine(_seed, NodeId, options.GroupId), stopping.Token);
        try
        {
            await group.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            stopping.Dispose();
            throw;
        }

        if (!_groups.TryAdd(options.GroupId, (group, stopping)))
        {
            await StopAsync(group, stopping).ConfigureAwait(false);
            throw new InvalidOperationException($"Raft group {options.GroupId} was added to node {NodeId} concurrently; remove it before adding it again.");
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            // The host was disposed while the group started: it would never be stopped.
            await RemoveGroupAsync(options.GroupId).ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(RaftHost));
        }

        return group;
    }

    /// <summary>The group <paramref name="groupId"/>, when hosted here.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="group">The group.</param>
    public bool TryGetGroup(long groupId, [NotNullWhen(true)] out RaftGroup? group)
    {
        group = _groups.TryGetValue(groupId, out var hosted) ? hosted.Group : null;
        return group is not null;
    }

    /// <summary>
    /// Stops hosting a group: a write or apply in progress is cancelled, the loop stops, and its
    /// pending requests fail with <see cref="RaftGroupStoppedException"/>. Its storage is left as is.
    /// </summary>
    /// <param name="groupId">The group.</param>
    /// <returns>True when the group was hosted.</returns>
    public async ValueTask<bool> RemoveGroupAsync(long groupId)
    {
        if (!_groups.TryRemove(groupId, out var hosted))
        {
            return false;
        }

        await StopAsync(hosted.Group, hosted.Stopping).ConfigureAwait(false);
        return true;
    }

    /// <summary>Routes a received message to its group's inbox; drops it for a group not hosted here or another node.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="message">The message.</param>
    public void Deliver(long groupId, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != NodeId || !_groups.TryGetValue(groupId, out var hosted) || !hosted.Group.Deliver(message))
        {
            _metrics.DroppedMessage();
        }
    }

    /// <summary>Stops the timer and every group. The transport is not disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        foreach (var groupId in _groups.Keys)
        {
            await RemoveGroupAsync(groupId).ConfigureAwait(false);
        }

        _metrics.Dispose();
    }

    private static async ValueTask StopAsync(RaftGroup group, CancellationTokenSource stopping)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        await group.StopAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    private void TickAll()
    {
        // The dictionary's enumerator takes no lock and allocates nothing per group.
        foreach (var (_, hosted) in _groups)
        {
            hosted.Group.Tick();
        }
    }

    private IEnumerable<Measurement<long>> MeasureTerms()
    {
        foreach (var (groupId, hosted) in _groups)
        {
            yield return new Measurement<long>(hosted.Group.Status.Term, new KeyValuePair<string, object?>("streams.raft.group", groupId));
        }
    }
}
