using Microsoft.Extensions.Logging;
using Streams.Raft.Runtime;
using Streams.Raft.Tests.Transport;
using Streams.Raft.Transport;

namespace Streams.Raft.Tests.Runtime.Support;

/// <summary>
/// One node of a test cluster: a <see cref="RaftHost"/> with its transport and, over RPC, a
/// Kestrel server on a free loopback port serving the Raft transport.
/// </summary>
internal sealed class RaftTestNode : IAsyncDisposable
{
    private readonly RaftTransportTestServer? _server;
    private readonly RpcRaftTransport? _rpcTransport;

    private RaftTestNode(long id, RaftHost host, RaftTransportTestServer? server, RpcRaftTransport? rpcTransport, Uri? address)
    {
        Id = id;
        Host = host;
        _server = server;
        _rpcTransport = rpcTransport;
        Address = address;
    }

    public long Id { get; }

    public RaftHost Host { get; }

    /// <summary>The RPC transport (null in memory).</summary>
    public RpcRaftTransport? Transport => _rpcTransport;

    /// <summary>The server's address (null in memory).</summary>
    public Uri? Address { get; }

    public Dictionary<long, ListStateMachine> StateMachines { get; } = [];

    /// <summary>Starts a node whose peers are reached over gRPC, its server on a free port.</summary>
    public static async Task<RaftTestNode> StartRpcAsync(long id, RaftPeers peers, RaftHostOptions hostOptions, ILoggerFactory? loggerFactory)
    {
        var transport = new RpcRaftTransport(id, peers, new RpcRaftTransportOptions
        {
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
            CallTimeout = TimeSpan.FromSeconds(2),
        }, loggerFactory: loggerFactory);
        var host = new RaftHost(id, transport, hostOptions, loggerFactory: loggerFactory);
        var server = await RaftTransportTestServer.StartAsync(host);
        return new RaftTestNode(id, host, server, transport, server.Address);
    }

    /// <summary>Starts a node attached to an in-memory network.</summary>
    public static RaftTestNode StartInMemory(long id, InMemoryRaftNetwork network, RaftHostOptions hostOptions, ILoggerFactory? loggerFactory)
    {
        var handler = new DeferredHandler();
        var host = new RaftHost(id, network.Attach(id, handler), hostOptions, loggerFactory: loggerFactory);
        handler.Target = host;
        return new RaftTestNode(id, host, null, null, null);
    }

    /// <summary>Stops the server first (the node drops off the network), then the groups, then the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await Host.DisposeAsync();
        if (_rpcTransport is not null)
        {
            await _rpcTransport.DisposeAsync();
        }
    }

    /// <summary>The in-memory network needs a handler before the host that handles exists.</summary>
    private sealed class DeferredHandler : IRaftMessageHandler
    {
        public RaftHost? Target { get; set; }

        public void Deliver(long groupId, Messages.Message message) => Target?.Deliver(groupId, message);
    }
}
