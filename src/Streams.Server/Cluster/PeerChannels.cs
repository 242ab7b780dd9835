using System.Collections.Concurrent;
using Streams.Rpc.Client;

namespace Streams.Server.Cluster;

/// <summary>
/// One gRPC channel per peer address, shared by every request this node forwards; channels live
/// as long as the node.
/// </summary>
internal sealed class PeerChannels(int maxMessageSizeBytes) : IDisposable
{
    private readonly ConcurrentDictionary<Uri, RpcChannel> _channels = new();

    /// <summary>The channel to <paramref name="address"/>, created on first use.</summary>
    public RpcChannel Get(Uri address) => _channels.GetOrAdd(address, a => RpcChannel.ForAddress(a, new RpcChannelOptions
    {
        MaxReceiveMessageSizeBytes = maxMessageSizeBytes,
        MaxSendMessageSizeBytes = maxMessageSizeBytes,
        ConnectTimeout = TimeSpan.FromSeconds(2),
    }));

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
    }
}
