using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Rpc.Server;

namespace Streams.Rpc.Interop;

/// <summary>A real Kestrel server with the Interop service on 127.0.0.1 and a free port, for tests and benchmarks.</summary>
public sealed class RpcTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RpcTestServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public int Port => Address.Port;

    public InteropService Interop => _app.Services.GetRequiredService<InteropService>();

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server; <paramref name="protocols"/> chooses what the port speaks (h2c by default).</summary>
    public static async Task<RpcTestServer> StartAsync(
        Action<RpcServerOptions>? configure = null,
        HttpProtocols protocols = HttpProtocols.Http2,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? pipeline = null,
        LogLevel minimumLogLevel = LogLevel.Warning,
        Action<KestrelServerOptions>? kestrelOptions = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttp2ForRpc();
            kestrelOptions?.Invoke(kestrel);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = protocols);
        });
        builder.Services.AddStreamsRpc(configure);
        builder.Services.AddRpcService<InteropService>();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        pipeline?.Invoke(app);
        app.UseStreamsRpc();
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RpcTestServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
