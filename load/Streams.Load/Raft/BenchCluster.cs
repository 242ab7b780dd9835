using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Transport;
using Streams.Rpc.Server;

namespace Streams.Load.Raft;

/// <summary>How the nodes of a benchmark cluster reach each other.</summary>
internal enum ClusterTransport
{
    /// <summary><see cref="RpcRaftTransport"/>: gRPC over h2c on 127.0.0.1, one Kestrel server per node.</summary>
    Rpc,

    /// <summary><see cref="InMemoryRaftNetwork"/>: messages handed over as objects, no socket, no serialization.</summary>
    Memory,
}

/// <summary>One node: a host with the benchmark's one group, its counted file log and, over RPC, its server.</summary>
internal sealed class BenchNode
{
    public required long Id { get; init; }

    public required RaftHost Host { get; init; }

    public required RaftGroup Group { get; init; }

    public required CountingStorage Storage { get; init; }

    public required CountingStateMachine StateMachine { get; init; }

    public WebApplication? Server { get; init; }

    public RpcRaftTransport? Transport { get; init; }
}

/// <summary>
/// Three nodes in this process, voters 1, 2 and 3 of group 1, each with a <see cref="FileRaftLog"/>
/// in its own directory, talking over loopback gRPC or an in-memory network.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    public const long GroupId = 1;

    private static readonly long[] _voters = [1, 2, 3];

    private readonly List<BenchNode> _nodes = [];
    private readonly string _directory;

    private BenchCluster(ClusterTransport transport, bool fsync, string directory)
    {
        Transport = transport;
        Fsync = fsync;
        _directory = directory;
    }

    public ClusterTransport Transport { get; }

    public bool Fsync { get; }

    public IReadOnlyList<BenchNode> Nodes => _nodes;

    /// <summary>The group settings every node gets.</summary>
    public static RaftGroupOptions GroupOptions => new()
    {
        GroupId = GroupId,
        Voters = _voters,

        // Far apart enough that a snapshot (a file write, fsync, rename and directory fsync per
        // node) is rare beside the commits, close enough that the in-memory log stays small.
        SnapshotEveryEntries = 200_000,
    };

    /// <summary>The production default: heartbeats every 100 ms, elections after 1–2 s without a leader.</summary>
    public static RaftHostOptions HostOptions => new() { TickInterval = TimeSpan.FromMilliseconds(100) };

    public static async Task<BenchCluster> StartAsync(ClusterTransport transport, bool fsync, string directory, CancellationToken cancellationToken)
    {
        if (Directory.Exists(directory))
        {
            // Left by an earlier run in --dir: a fresh cluster, not a recovered one.
            Directory.Delete(directory, recursive: true);
        }

        var cluster = new BenchCluster(transport, fsync, directory);
        try
        {
            await cluster.StartNodesAsync(cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The leader once exactly one node leads, every node follows it in its term, and it has applied its no-op.</summary>
    public async Task<BenchNode> WaitForLeaderAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (FindLeader() is { } leader)
            {
                return leader;
            }

            if (DateTime.UtcNow > deadline)
            {
                var statuses = string.Join("; ", _nodes.Select(n => n.Group.Status).Select(s => $"node {s.NodeId}: {s.Role} term {s.Term} leader {s.Leader} commit {s.CommitIndex}"));
                throw new TimeoutException($"The {Describe(Transport, Fsync)} cluster has no settled leader after {timeout.TotalSeconds:0} s ({statuses}).");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    public static string Describe(ClusterTransport transport, bool fsync) =>
        $"{(transport == ClusterTransport.Rpc ? "rpc" : "memory")}, fsync {(fsync ? "on" : "off")}";

    public async ValueTask DisposeAsync()
    {
        // Groups first, so nothing sends while transports and servers go away; then the files.
        foreach (var node in _nodes)
        {
            await node.Host.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var node in _nodes)
        {
            if (node.Transport is not null)
            {
                await node.Transport.DisposeAsync().ConfigureAwait(false);
            }

            if (node.Server is not null)
            {
                await StopServerAsync(node.Server).ConfigureAwait(false);
            }

            node.Storage.Dispose();
        }

        _nodes.Clear();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private BenchNode? FindLeader()
    {
        BenchNode? leader = null;
        foreach (var node in _nodes)
        {
            if (node.Group.Status.Role == RaftRole.Leader)
            {
                if (leader is not null)
                {
                    return null;
                }

                leader = node;
            }
        }

        if (leader is null)
        {
            return null;
        }

        var status = leader.Group.Status;
        var settled = status.CommitIndex > 0 && status.AppliedIndex == status.CommitIndex
            && _nodes.All(n => n.Group.Status.Leader == leader.Id && n.Group.Status.Term == status.Term);
        return settled ? leader : null;
    }

    private async Task StartNodesAsync(CancellationToken cancellationToken)
    {
        // Hosts and transports first: over RPC, the address book is filled as the servers start,
        // and no group runs before every node can be reached.
        var peers = new RaftPeers();
        var network = new InMemoryRaftNetwork();
        var hosts = new List<(long Id, RaftHost Host, RpcRaftTransport? Transport, WebApplication? Server)>();
        try
        {
            foreach (var id in _voters)
            {
                if (Transport == ClusterTransport.Rpc)
                {
                    var transport = new RpcRaftTransport(id, peers);
                    var host = new RaftHost(id, transport, HostOptions);
                    hosts.Add((id, host, transport, null));
                    var (server, address) = await StartServerAsync(host).ConfigureAwait(false);
                    hosts[^1] = (id, host, transport, server);
                    peers.Set(id, address);
                }
                else
                {
                    var handler = new LateHandler();
                    var host = new RaftHost(id, network.Attach(id, handler), HostOptions);
                    handler.Host = host;
                    hosts.Add((id, host, null, null));
                }
            }

            foreach (var (id, host, transport, server) in hosts)
            {
                var log = await FileRaftLog.OpenAsync(
                    new FileRaftLogOptions { Directory = Path.Combine(_directory, "node-" + id.ToString(CultureInfo.InvariantCulture)), Fsync = Fsync },
                    cancellationToken).ConfigureAwait(false);
                var storage = new CountingStorage(log);
                var stateMachine = new CountingStateMachine();
                RaftGroup group;
                try
                {
                    group = await host.AddGroupAsync(GroupOptions, storage, stateMachine, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    storage.Dispose();
                    throw;
                }

                _nodes.Add(new BenchNode { Id = id, Host = host, Group = group, Storage = storage, StateMachine = stateMachine, Server = server, Transport = transport });
            }
        }
        catch
        {
            // Whatever did not become a node yet is stopped here; the nodes by DisposeAsync.
            foreach (var (id, host, transport, server) in hosts.Where(h => _nodes.All(n => n.Id != h.Id)))
            {
                await host.DisposeAsync().ConfigureAwait(false);
                if (transport is not null)
                {
                    await transport.DisposeAsync().ConfigureAwait(false);
                }

                if (server is not null)
                {
                    await StopServerAsync(server).ConfigureAwait(false);
                }
            }

            throw;
        }
    }

    private static async Task StopServerAsync(WebApplication server)
    {
        await server.StopAsync().ConfigureAwait(false);
        await server.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A Kestrel server on a free loopback port serving the node's end of the Raft transport.</summary>
    private static async Task<(WebApplication Server, Uri Address)> StartServerAsync(RaftHost host)
    {
        // No configuration reload: its file watcher would see every log write when the logs lie
        // under the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options => options.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttp2ForRpc();
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddStreamsRpc();
        builder.Services.AddRaftTransport(host);
        var app = builder.Build();
        app.UseStreamsRpc();
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    /// <summary>The in-memory network wants a handler before the host that handles exists.</summary>
    private sealed class LateHandler : IRaftMessageHandler
    {
        public RaftHost? Host { get; set; }

        public void Deliver(long groupId, Message message) => Host?.Deliver(groupId, message);
    }
}
