using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streams.Raft.Runtime;
using Streams.Raft.Transport;
using Streams.Rpc.Server;

namespace Streams.Raft.Tests.Runtime.Support;

/// <summary>
/// One node of a test cluster: a <see cref="RaftHost"/> with its transport and, over RPC, a
/// Kestrel server on a free loopback port serving the Raft transport.
/// </summary>
internal sealed class RaftTestNode : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private readonly RpcRaftTransport? _rpcTransport;

    private RaftTestNode(long id, RaftHost host, WebApplication? app, RpcRaftTransport? rpcTransport, Uri? address)
    {
        Id = id;
        Host = host;
        _app = app;
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
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttp2ForRpc();
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddStreamsRpc();
        builder.Services.AddRaftTransport(host);
        var app = builder.Build();
        app.UseStreamsRpc();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RaftTestNode(id, host, app, transport, new Uri(address));
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
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
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
