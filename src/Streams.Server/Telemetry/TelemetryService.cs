using System.Reflection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Streams.Server.Configuration;

namespace Streams.Server.Telemetry;

/// <summary>
/// Owns the OpenTelemetry tracer and meter providers: builds them when the host starts (before
/// the server, so the first calls are traced) and shuts them down, which flushes what is
/// buffered, when the host stops (after the server). The providers subscribe to every source
/// and meter named <see cref="NodeTelemetry.SourcePattern"/>. Nothing is built when no exporter
/// is configured: spans nobody exports are not worth recording.
/// </summary>
internal sealed class TelemetryService(NodeOptions node, TelemetryOptions options, ILogger<TelemetryService> logger) : IHostedService, IDisposable
{
    private TracerProvider? _tracerProvider;
    private MeterProvider? _meterProvider;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.ExportEnabled)
        {
            TelemetryLog.ExportDisabled(logger);
            return Task.CompletedTask;
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(NodeTelemetry.ServiceName, serviceVersion: ServiceVersion(), serviceInstanceId: node.NodeId)
            .AddAttributes([new KeyValuePair<string, object>(NodeTelemetry.NodeIdAttribute, node.NodeId)]);

        _tracerProvider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(NodeTelemetry.SourcePattern)
            .AddOtlpExporter(exporter => ConfigureExporter(exporter, "v1/traces"))
            .Build();
        _meterProvider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(NodeTelemetry.SourcePattern)
            .AddOtlpExporter((exporter, reader) =>
            {
                ConfigureExporter(exporter, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.MetricExportIntervalMilliseconds;
                reader.PeriodicExportingMetricReaderOptions.ExportTimeoutMilliseconds = options.ExportTimeoutMilliseconds;
            })
            .Build();
        TelemetryLog.ExportEnabled(logger, options.OtlpProtocol, options.OtlpEndpoint!);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var tracer = _tracerProvider;
        var meter = _meterProvider;
        if (tracer is null && meter is null)
        {
            return;
        }

        // Shutdown blocks until the last export ends (bounded by the export timeout): keep it off
        // the caller's thread. Traces and metrics flush side by side.
        var timeout = options.ExportTimeoutMilliseconds;
        var traces = Task.Run(() => tracer?.Shutdown(timeout) ?? true, CancellationToken.None);
        var metrics = Task.Run(() => meter?.Shutdown(timeout) ?? true, CancellationToken.None);
        var flushed = await Task.WhenAll(traces, metrics);
        if (!flushed[0] || !flushed[1])
        {
            TelemetryLog.FlushIncomplete(logger, timeout, flushed[0], flushed[1]);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _tracerProvider?.Dispose();
        _meterProvider?.Dispose();
    }

    private void ConfigureExporter(OtlpExporterOptions exporter, string signalPath)
    {
        var endpoint = options.OtlpEndpoint!.TrimEnd('/');
        if (options.OtlpProtocol == TelemetryOptions.GrpcProtocol)
        {
            // gRPC: the exporter calls the collector's services at the endpoint itself.
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = new Uri(endpoint, UriKind.Absolute);
        }
        else
        {
            // http/protobuf: an endpoint set in code is used as is, so add the signal's path the
            // way the OTEL_EXPORTER_OTLP_ENDPOINT convention does.
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri($"{endpoint}/{signalPath}", UriKind.Absolute);
        }

        exporter.TimeoutMilliseconds = options.ExportTimeoutMilliseconds;
    }

    private static string ServiceVersion() =>
        typeof(TelemetryService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
