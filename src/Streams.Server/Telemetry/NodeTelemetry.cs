namespace Streams.Server.Telemetry;

/// <summary>Names shared by the node's traces and metrics.</summary>
public static class NodeTelemetry
{
    /// <summary>The OpenTelemetry service name of every node.</summary>
    public const string ServiceName = "streams";

    /// <summary>The resource attribute that carries the node id (also sent as <c>service.instance.id</c>).</summary>
    public const string NodeIdAttribute = "streams.node.id";

    /// <summary>
    /// The activity sources and meters exported: every name under <c>Streams.</c>, such as
    /// <c>Streams.Rpc</c>. Name new sources and meters accordingly.
    /// </summary>
    public const string SourcePattern = "Streams.*";
}
