using System.Diagnostics.Metrics;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Transport;
using Streams.Server.Configuration;
using Streams.Server.Controller;
using Streams.Server.Metadata;
using Streams.Server.Shards;

namespace Streams.Server.Cluster;

/// <summary>
/// This node's part in the cluster: the Raft host with the controller group and the shard groups
/// placed here, the directory of peers, and the loop that keeps local replicas in step with the
/// controller's metadata (<see cref="ClusterReconciler"/>). Started by the node once its gRPC
/// listener is bound (its address is then known), stopped before the listeners close.
/// </summary>
internal sealed class StreamsCluster : IAsyncDisposable
{
    private readonly NodeOptions _node;
    private readonly ClusterOptions _options;
    private readonly RaftMessageRelay _relay;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IMeterFactory? _meterFactory;
    private readonly RaftPeers _raftPeers = new();
    private readonly CancellationTokenSource _stopping = new();
    private RpcRaftTransport? _transport;
    private RaftHost? _host;
    private FileRaftLog? _controllerLog;
    private Task _reconciling = Task.CompletedTask;
    private ControllerGroup? _controller;
    private LocalShards? _shards;
    private int _disposed;

    /// <summary>Creates the (not yet started) cluster member.</summary>
    public StreamsCluster(NodeOptions node, ClusterOptions options, LimitsOptions limits, RaftMessageRelay relay, TimeProvider time, ILoggerFactory loggerFactory, IMeterFactory? meterFactory = null)
    {
        _node = node;
        _options = options;
        Limits = limits;
        _relay = relay;
        _time = time;
        _loggerFactory = loggerFactory;
        _meterFactory = meterFactory;
        NodeId = node.NodeId;
        RaftId = RaftNodeIds.Of(node.NodeId);
        Directory = new NodeDirectory(RaftId, _raftPeers, options.ParsePeers());
        Peers = new PeerChannels(node.MaxMessageSizeBytes);
        Proposer = new ControllerProposer(this, time);
    }

    /// <summary>This node's name.</summary>
    public string NodeId { get; }

    /// <summary>This node's Raft id.</summary>
    public long RaftId { get; }

    /// <summary>The address other nodes reach this one at; set at start.</summary>
    public Uri? Address { get; private set; }

    /// <summary>The API's limits.</summary>
    public LimitsOptions Limits { get; }

    /// <summary>The cluster settings.</summary>
    public ClusterOptions Options => _options;

    /// <summary>Names, Raft ids and addresses of the nodes.</summary>
    public NodeDirectory Directory { get; }

    /// <summary>Channels to the other nodes, for forwarded requests.</summary>
    public PeerChannels Peers { get; }

    /// <summary>Gets controller commands applied from this node.</summary>
    public ControllerProposer Proposer { get; }

    /// <summary>The controller group's member here; null until started.</summary>
    public ControllerGroup? Controller => Volatile.Read(ref _controller);

    /// <summary>The shard replicas here; null until started.</summary>
    public LocalShards? Shards => Volatile.Read(ref _shards);

    /// <summary>The Raft host; null until started.</summary>
    public RaftHost? Host => _host;

    /// <summary>The metadata as applied here (empty before start).</summary>
    public ClusterMetadata Metadata => Controller?.Current ?? ClusterMetadata.Empty;

    /// <summary>
    /// Opens the controller's log, starts the Raft host and the controller group (forming the
    /// cluster from the configured peers, or waiting to be added with <c>Join</c>), and starts
    /// keeping replicas in step.
    /// </summary>
    /// <param name="dataDirectory">The node's data directory.</param>
    /// <param name="boundAddress">The bound gRPC address, advertised when no other is configured.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public async Task StartAsync(string dataDirectory, Uri boundAddress, CancellationToken cancellationToken)
    {
        var configured = _options.ParsePeers();
        Address = _options.AdvertiseAddress.Length > 0
            ? new Uri(_options.AdvertiseAddress)
            : configured.FirstOrDefault(p => p.Key == NodeId).Value ?? boundAddress;
        Directory.Set(NodeId, RaftId, Address);

        var tick = TimeSpan.FromMilliseconds(_options.TickMilliseconds);
        _transport = new RpcRaftTransport(RaftId, _raftPeers, new RpcRaftTransportOptions
        {
            CallTimeout = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        }, _time, _loggerFactory, _meterFactory);
        _host = new RaftHost(RaftId, _transport, new RaftHostOptions { TickInterval = tick }, _time, _loggerFactory, _meterFactory);
        _relay.Attach(_host);

        _controllerLog = await FileRaftLog.OpenAsync(new FileRaftLogOptions { Directory = Path.Combine(dataDirectory, "controller"), Fsync = true }, cancellationToken).ConfigureAwait(false);
        var voters = _options.Join
            ? []
            : configured.Count == 0 ? [RaftId] : configured.Select(p => RaftNodeIds.Of(p.Key)).Order().ToList();
        var state = new ControllerStateMachine();
        var group = await _host.AddGroupAsync(new RaftGroupOptions { GroupId = ClusterMetadata.ControllerGroupId, Voters = voters, SnapshotEveryEntries = 1_000 }, _controllerLog, state, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _controller, new ControllerGroup(group, state));
        Volatile.Write(ref _shards, new LocalShards(_host, Path.Combine(dataDirectory, "shards"), _options, _time, _loggerFactory));

        var reconciler = new ClusterReconciler(this, configured, _time, _loggerFactory.CreateLogger<ClusterReconciler>());
        _reconciling = Task.Run(() => reconciler.RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops the loop, the groups and the transport; the data stays.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reconciling.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _relay.Attach(null);
        if (Shards is { } shards)
        {
            await shards.CloseAllAsync().ConfigureAwait(false);
            shards.Dispose();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }

        _controllerLog?.Dispose();
        Peers.Dispose();
        _stopping.Dispose();
    }
}
