using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Streams.Raft.Transport;

/// <summary>
/// The address book of the cluster: node id to the gRPC address its Raft transport listens on.
/// Thread-safe and updatable at run time: a transport reads it before every batch, so a node that
/// moved (restarted on another port) is reached at its new address from the next batch on.
/// </summary>
public sealed class RaftPeers
{
    private readonly ConcurrentDictionary<long, Uri> _addresses = new();

    /// <summary>Creates an empty address book.</summary>
    public RaftPeers()
    {
    }

    /// <summary>Creates an address book with the given addresses.</summary>
    /// <param name="addresses">Node id to address (<c>http://host:port</c>).</param>
    public RaftPeers(IEnumerable<KeyValuePair<long, Uri>> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var (nodeId, address) in addresses)
        {
            Set(nodeId, address);
        }
    }

    /// <summary>Sets (adds or replaces) the address of <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The node; not 0.</param>
    /// <param name="address">An absolute <c>http</c> or <c>https</c> address.</param>
    public void Set(long nodeId, Uri address)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nodeId);
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The address of node {nodeId} must be an absolute http:// or https:// URI; got '{address}'.", nameof(address));
        }

        _addresses[nodeId] = address;
    }

    /// <summary>Forgets <paramref name="nodeId"/>: messages to it are dropped from then on.</summary>
    /// <param name="nodeId">The node.</param>
    /// <returns>True when the node was known.</returns>
    public bool Remove(long nodeId) => _addresses.TryRemove(nodeId, out _);

    /// <summary>The address of <paramref name="nodeId"/>, when known.</summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="address">Its address.</param>
    public bool TryGetAddress(long nodeId, [NotNullWhen(true)] out Uri? address) => _addresses.TryGetValue(nodeId, out address);

    /// <summary>A copy of the current address book.</summary>
    public IReadOnlyDictionary<long, Uri> ToDictionary() => new Dictionary<long, Uri>(_addresses);
}
