namespace Streams.Server.Hosting;

/// <summary>The node's own log lines. Event ids are stable: 1000-1099 hosting.</summary>
internal static partial class NodeLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Streams node {NodeId} starting: data directory {DataDirectory}, environment {Environment}")]
    public static partial void Starting(ILogger logger, string nodeId, string dataDirectory, string environment);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Streams node {NodeId} serving gRPC on {GrpcAddress}, HTTP on {HttpAddress}")]
    public static partial void Serving(ILogger logger, string nodeId, string grpcAddress, string httpAddress);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Streams node {NodeId} stopping: readiness is now NOT_SERVING")]
    public static partial void Stopping(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Streams node {NodeId} stopped")]
    public static partial void Stopped(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "TLS on both listeners with certificate {Subject} (thumbprint {Thumbprint}, valid until {NotAfter:O})")]
    public static partial void TlsEnabled(ILogger logger, string subject, string thumbprint, DateTime notAfter);
}
