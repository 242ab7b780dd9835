namespace Streams.Server.Telemetry;

/// <summary>Telemetry log lines. Event ids are stable: 1100-1199 telemetry.</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Exporting traces and metrics over OTLP ({Protocol}) to {Endpoint}")]
    public static partial void ExportEnabled(ILogger logger, string protocol, string endpoint);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "No OTLP endpoint configured (Telemetry:OtlpEndpoint, OTEL_EXPORTER_OTLP_ENDPOINT): traces and metrics are not exported")]
    public static partial void ExportDisabled(ILogger logger);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Telemetry flush at shutdown did not complete within {TimeoutMilliseconds} ms (traces flushed: {TracesFlushed}, metrics flushed: {MetricsFlushed}); some data may be lost")]
    public static partial void FlushIncomplete(ILogger logger, int timeoutMilliseconds, bool tracesFlushed, bool metricsFlushed);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "{Count} observable instrument callback(s) failed while collecting /metrics; their values are missing from this scrape")]
    public static partial void ObservableCallbackFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Instrument {Instrument} of meter {Meter} would be exposed as {Metric}, a name instrument {OwnerInstrument} of meter {OwnerMeter} already has: it is left out of /metrics")]
    public static partial void MetricNameConflict(ILogger logger, string meter, string instrument, string metric, string ownerMeter, string ownerInstrument);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Instrument {Instrument} of meter {Meter} reached {Limit} label sets: further label sets are aggregated into one series labelled otel_metric_overflow=\"true\"")]
    public static partial void MetricSeriesOverflow(ILogger logger, string meter, string instrument, int limit);
}
