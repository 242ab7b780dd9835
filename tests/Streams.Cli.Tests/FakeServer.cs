using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Rpc.Server;

namespace Streams.Cli.Tests;

/// <summary>The fake Streams, Cluster, Consumers and Firehose services on Kestrel, h2c on 127.0.0.1 and a free port.</summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeServer(WebApplication app, FakeStreamsService streams, FakeClusterService cluster, FakeConsumersService consumers, FakeFirehoseService firehose, string endpoint)
    {
        _app = app;
        Streams = streams;
        Cluster = cluster;
        Consumers = consumers;
        Firehose = firehose;
        Endpoint = endpoint;
    }

    public FakeStreamsService Streams { get; }

    public FakeClusterService Cluster { get; }

    public FakeConsumersService Consumers { get; }

    public FakeFirehoseService Firehose { get; }

    /// <summary>The address to pass as --endpoint.</summary>
    public string Endpoint { get; }

    public static async Task<FakeServer> StartAsync()
    {
        var streams = new FakeStreamsService();
        var cluster = new FakeClusterService();
        var consumers = new FakeConsumersService();
        var firehose = new FakeFirehoseService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttp2ForRpc();
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        // PutRecords carries up to 5 MiB of records, as the API promises.
        builder.Services.AddStreamsRpc(o => o.MaxReceiveMessageSizeBytes = 8 * 1024 * 1024);
        builder.Services.AddSingleton(streams);
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton(consumers);
        builder.Services.AddSingleton(firehose);
        builder.Services.AddRpcService<FakeStreamsService>();
        builder.Services.AddRpcService<FakeClusterService>();
        builder.Services.AddRpcService<FakeConsumersService>();
        builder.Services.AddRpcService<FakeFirehoseService>();
        var app = builder.Build();
        app.UseStreamsRpc();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeServer(app, streams, cluster, consumers, firehose, address);
    }

    /// <summary>Runs the command against this server.</summary>
    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync([.. args, "--endpoint", Endpoint]);

    /// <summary>Runs the command against this server with <paramref name="stdin"/> as its input.</summary>
    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => CliRunner.RunAsync([.. args, "--endpoint", Endpoint], stdin);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
