namespace Streams.Rpc.Server;

/// <summary>When the server compresses its responses with gzip.</summary>
public enum ResponseCompressionMode
{
    /// <summary>Never.</summary>
    Never,
    /// <summary>When the request was itself gzip-compressed and the client accepts gzip.</summary>
    WhenRequestCompressed,
    /// <summary>Whenever the client's <c>grpc-accept-encoding</c> names gzip.</summary>
    WhenAccepted,
}

/// <summary>Settings of the gRPC server.</summary>
public sealed class RpcServerOptions
{
    /// <summary>The default message size limit, both ways: 4 MiB.</summary>
    public const int DefaultMaxMessageSizeBytes = 4 * 1024 * 1024;

    /// <summary>The largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSizeBytes { get; set; } = DefaultMaxMessageSizeBytes;

    /// <summary>The largest response message sent; a larger one ends the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSizeBytes { get; set; } = DefaultMaxMessageSizeBytes;

    /// <summary>When responses are gzip-compressed.</summary>
    public ResponseCompressionMode ResponseCompression { get; set; } = ResponseCompressionMode.WhenRequestCompressed;

    /// <summary>Put an unexpected exception's message in the status sent to clients (off: it may leak internals).</summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>Checks the settings; throws with what to change.</summary>
    public void Validate()
    {
        if (MaxReceiveMessageSizeBytes < 1)
        {
            throw new ArgumentException($"{nameof(MaxReceiveMessageSizeBytes)} is {MaxReceiveMessageSizeBytes}; it must be at least 1 byte.");
        }

        if (MaxSendMessageSizeBytes < 1)
        {
            throw new ArgumentException($"{nameof(MaxSendMessageSizeBytes)} is {MaxSendMessageSizeBytes}; it must be at least 1 byte.");
        }
    }
}
