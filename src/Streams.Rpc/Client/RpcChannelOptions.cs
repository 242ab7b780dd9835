using System.Net.Security;

namespace Streams.Rpc.Client;

/// <summary>Settings of a <see cref="RpcChannel"/>.</summary>
public sealed class RpcChannelOptions
{
    /// <summary>
    /// An HTTP handler to share between channels (see <see cref="RpcChannel.CreateHttpHandler"/>):
    /// they then share connections. The channel does not dispose it. Null: the channel makes its own.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>The largest response message accepted; a larger one fails the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSizeBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The largest request message sent; a larger one fails the call with RESOURCE_EXHAUSTED before it is sent.</summary>
    public int MaxSendMessageSizeBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Compress request messages with gzip (a call can override it).</summary>
    public bool CompressRequests { get; init; }

    /// <summary>How long a connection may be idle before a keepalive ping checks it.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a ping's answer before the connection is closed as dead.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long to wait for a TCP (and TLS) connection to be set up.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS settings for <c>https</c> addresses (server certificate validation, client certificates).</summary>
    public SslClientAuthenticationOptions? SslOptions { get; init; }

    /// <summary>The clock for deadlines; tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

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

        if (KeepAlivePingDelay <= TimeSpan.Zero || KeepAlivePingTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("KeepAlivePingDelay, KeepAlivePingTimeout and ConnectTimeout must be positive.");
        }
    }
}
