namespace Streams.Server.Configuration;

/// <summary>
/// Settings of trace and metric export (configuration section <c>Telemetry</c>). Export over
/// OTLP is on when an endpoint is configured: <see cref="OtlpEndpoint"/>, or else the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> environment variable.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>OTLP over HTTP with protobuf bodies (<c>POST {endpoint}/v1/traces</c>, <c>/v1/metrics</c>).</summary>
    public const string HttpProtobufProtocol = "http/protobuf";

    /// <summary>OTLP over gRPC (the exporter has its own HTTP/2 client: no gRPC library is needed).</summary>
    public const string GrpcProtocol = "grpc";

    /// <summary>The standard variable that names the collector when <see cref="OtlpEndpoint"/> is empty.</summary>
    public const string StandardEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The standard variable that names the protocol, honoured with <see cref="StandardEndpointVariable"/>.</summary>
    public const string StandardProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>
    /// The collector's base address, such as <c>http://127.0.0.1:4318</c> (http/protobuf) or
    /// <c>http://127.0.0.1:4317</c> (grpc). Empty: no export.
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary><c>http/protobuf</c> (the default) or <c>grpc</c>.</summary>
    public string OtlpProtocol { get; init; } = HttpProtobufProtocol;

    /// <summary>How often metrics are exported; they are also exported once more at shutdown.</summary>
    public int MetricExportIntervalMilliseconds { get; init; } = 60_000;

    /// <summary>How long one export may take, and how long the flush at shutdown may wait.</summary>
    public int ExportTimeoutMilliseconds { get; init; } = 10_000;

    /// <summary>True when traces and metrics are exported.</summary>
    public bool ExportEnabled => !string.IsNullOrWhiteSpace(OtlpEndpoint);

    /// <summary>
    /// These settings with the standard OpenTelemetry variables applied: when
    /// <see cref="OtlpEndpoint"/> is empty, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (and with it
    /// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, if set) are used.
    /// </summary>
    public TelemetryOptions WithStandardVariables(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (ExportEnabled || !environment.TryGetValue(StandardEndpointVariable, out var endpoint) || string.IsNullOrWhiteSpace(endpoint))
        {
            return this;
        }

        environment.TryGetValue(StandardProtocolVariable, out var protocol);
        return new TelemetryOptions
        {
            OtlpEndpoint = endpoint,
            OtlpProtocol = string.IsNullOrWhiteSpace(protocol) ? OtlpProtocol : protocol,
            MetricExportIntervalMilliseconds = MetricExportIntervalMilliseconds,
            ExportTimeoutMilliseconds = ExportTimeoutMilliseconds,
        };
    }

    /// <summary>Checks the settings; returns one message per problem, each saying what to change (empty: all good).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ExportEnabled
            && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"{SectionName}:{nameof(OtlpEndpoint)} (--otlp-endpoint, or {StandardEndpointVariable}) is '{OtlpEndpoint}'; use an absolute http:// or https:// address such as http://127.0.0.1:4318, or leave it empty to export nothing.");
        }

        if (OtlpProtocol is not (HttpProtobufProtocol or GrpcProtocol))
        {
            problems.Add($"{SectionName}:{nameof(OtlpProtocol)} (or {StandardProtocolVariable}) is '{OtlpProtocol}'; use '{HttpProtobufProtocol}' (the default) or '{GrpcProtocol}'.");
        }

        if (MetricExportIntervalMilliseconds < 100)
        {
            problems.Add($"{Setting(nameof(MetricExportIntervalMilliseconds), null)} is {MetricExportIntervalMilliseconds}; it must be at least 100 ms (the default is 60000).");
        }

        if (ExportTimeoutMilliseconds < 1)
        {
            problems.Add($"{Setting(nameof(ExportTimeoutMilliseconds), null)} is {ExportTimeoutMilliseconds}; it must be at least 1 ms (the default is 10000).");
        }

        return problems;
    }

    private static string Setting(string key, string? option) => CommandLineSwitches.Describe(SectionName, key, option);
}
