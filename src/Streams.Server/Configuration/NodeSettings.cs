namespace Streams.Server.Configuration;

/// <summary>Everything the node reads from configuration, bound and validated.</summary>
/// <param name="Node">The <c>Node</c> section.</param>
/// <param name="Telemetry">The <c>Telemetry</c> section, with the standard OTEL_ variables applied.</param>
/// <param name="LogFormat">The <c>Logging:Format</c> key.</param>
/// <param name="Cluster">The <c>Cluster</c> section.</param>
/// <param name="Limits">The <c>Limits</c> section.</param>
/// <param name="Firehose">The <c>Firehose</c> section.</param>
internal sealed record NodeSettings(NodeOptions Node, TelemetryOptions Telemetry, LogFormat LogFormat, ClusterOptions Cluster, LimitsOptions Limits, FirehoseOptions Firehose);
