using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Rpc;
using Streams.Rpc.Server;

namespace Streams.Server.Tests;

/// <summary>
/// A stand-in OpenTelemetry collector on 127.0.0.1 and a free port that keeps every export it
/// receives: OTLP/HTTP (<c>POST /v1/traces</c>, <c>/v1/metrics</c>, over HTTP/1.1) or OTLP/gRPC
/// (<c>TraceService/Export</c>, <c>MetricsService/Export</c>, over h2c, served by Streams.Rpc).
/// Bodies are kept as bytes: the tests look for strings inside the protobuf.
/// </summary>
public sealed class FakeCollector : IAsyncDisposable
{
    public const string TracesPath = "/v1/traces";
    public const string MetricsPath = "/v1/metrics";
    public const string GrpcTracesPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    public const string GrpcMetricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    private readonly WebApplication _app;

    private FakeCollector(WebApplication app, Uri address, Exports exports)
    {
        _app = app;
        Address = address;
        Received = exports;
    }

    public Uri Address { get; }

    public Exports Received { get; }

    public static async Task<FakeCollector> StartAsync(bool grpc)
    {
        var exports = new Exports();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        builder.Services.AddSingleton(exports);
        if (grpc)
        {
            builder.Services.AddStreamsRpc();
            builder.Services.AddRpcService<CollectorService>();
        }

        var app = builder.Build();
        if (grpc)
        {
            app.UseStreamsRpc();
        }

        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? string.Empty;
            if (!HttpMethods.IsPost(context.Request.Method) || path is not (TracesPath or MetricsPath))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            exports.Add(path, body.ToArray());

            // An empty Export*ServiceResponse: all accepted.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakeCollector(app, new Uri(address), exports);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>What the collector received, by path.</summary>
    public sealed class Exports
    {
        private readonly Lock _lock = new();
        private readonly List<(string Path, byte[] Body)> _bodies = [];

        public void Add(string path, byte[] body)
        {
            lock (_lock)
            {
                _bodies.Add((path, body));
            }
        }

        public IReadOnlyList<byte[]> To(string path)
        {
            lock (_lock)
            {
                return _bodies.Where(b => b.Path == path).Select(b => b.Body).ToList();
            }
        }
    }

    /// <summary>Both OTLP/gRPC export services, taking the request bytes as they come.</summary>
    private sealed class CollectorService(Exports exports) : IRpcService
    {
        private static readonly Method<byte[], byte[]> _exportTraces = new(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", RawBytes.Instance, RawBytes.Instance);
        private static readonly Method<byte[], byte[]> _exportMetrics = new(MethodType.Unary, "opentelemetry.proto.collector.metrics.v1.MetricsService", "Export", RawBytes.Instance, RawBytes.Instance);

        public void Bind(RpcServiceBinder binder)
        {
            binder.AddUnary(_exportTraces, (request, _) => Keep(GrpcTracesPath, request));
            binder.AddUnary(_exportMetrics, (request, _) => Keep(GrpcMetricsPath, request));
        }

        private Task<byte[]> Keep(string path, byte[] request)
        {
            exports.Add(path, request);
            return Task.FromResult(Array.Empty<byte>());
        }
    }

    private sealed class RawBytes : Marshaller<byte[]>
    {
        public static readonly RawBytes Instance = new();

        public override int Measure(byte[] message) => message.Length;

        public override void Write(byte[] message, IBufferWriter<byte> output) => output.Write(message);

        public override byte[] Read(in ReadOnlySequence<byte> input) => input.ToArray();
    }
}
