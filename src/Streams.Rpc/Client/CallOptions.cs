namespace Streams.Rpc.Client;

/// <summary>Per-call settings.</summary>
public readonly record struct CallOptions
{
    /// <summary>Custom metadata to send with the request.</summary>
    public Metadata? Headers { get; init; }

    /// <summary>When the call fails with DEADLINE_EXCEEDED; sent to the server as <c>grpc-timeout</c>.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Cancels the call; the server sees the cancellation.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Compress request messages with gzip; null follows the channel's setting.</summary>
    public bool? CompressRequests { get; init; }
}
