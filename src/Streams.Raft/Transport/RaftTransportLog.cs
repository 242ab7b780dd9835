using Microsoft.Extensions.Logging;

namespace Streams.Raft.Transport;

/// <summary>The Raft transport's log messages (event ids 3100-3199). Nothing is logged per message.</summary>
internal static partial class RaftTransportLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Raft peer {NodeId} at {Address} is unreachable ({Reason}); messages to it are dropped until it answers again")]
    public static partial void PeerUnreachable(ILogger logger, long nodeId, Uri address, string reason);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Raft peer {NodeId} at {Address} is reachable again after {Failures} failed batch(es)")]
    public static partial void PeerReachable(ILogger logger, long nodeId, Uri address, int failures);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Skipped {Count} malformed Raft message(s) in a batch from node {FromNode} ({Peer})")]
    public static partial void MalformedMessages(ILogger logger, int count, long fromNode, string peer);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Raft peer {NodeId} moved from {OldAddress} to {NewAddress}")]
    public static partial void PeerMoved(ILogger logger, long nodeId, Uri oldAddress, Uri newAddress);
}
