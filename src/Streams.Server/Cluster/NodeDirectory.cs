using System.Collections.Concurrent;
using Streams.Raft.Transport;
using Streams.Server.Metadata;

namespace Streams.Server.Cluster;

/// <summary>
/// Who is who: node name, Raft id and gRPC address of every node this one knows of, from the
/// configured peers at first and from the controller's metadata once it has some. Keeps the Raft
/// transport's peer addresses in step.
/// </summary>
internal sealed class NodeDirectory
{
    private readonly ConcurrentDictionary<long, (string NodeId, Uri Address)> _byRaftId = new();
    private readonly RaftPeers _raftPeers;
    private readonly long _selfRaftId;

    /// <summary>Creates the directory with the configured peers.</summary>
    public NodeDirectory(long selfRaftId, RaftPeers raftPeers, IEnumerable<KeyValuePair<string, Uri>> configuredPeers)
    {
        _selfRaftId = selfRaftId;
        _raftPeers = raftPeers;
        foreach (var (nodeId, address) in configuredPeers)
        {
            Set(nodeId, RaftNodeIds.Of(nodeId), address);
        }
    }

    /// <summary>Records a node's address.</summary>
    public void Set(string nodeId, long raftId, Uri address)
    {
        _byRaftId[raftId] = (nodeId, address);
        if (raftId != _selfRaftId)
        {
            _raftPeers.Set(raftId, address);
        }
    }

    /// <summary>Takes in the nodes of the metadata.</summary>
    public void Update(ClusterMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        foreach (var node in metadata.Nodes.Values)
        {
            if (Uri.TryCreate(node.Address, UriKind.Absolute, out var address)
                && (!_byRaftId.TryGetValue(node.RaftId, out var known) || known.Address != address))
            {
                Set(node.NodeId, node.RaftId, address);
            }
        }
    }

    /// <summary>The name of the node with Raft id <paramref name="raftId"/>, if known.</summary>
    public string? NameOf(long raftId) => _byRaftId.TryGetValue(raftId, out var node) ? node.NodeId : null;

    /// <summary>The address of the node with Raft id <paramref name="raftId"/>, if known.</summary>
    public Uri? AddressOf(long raftId) => _byRaftId.TryGetValue(raftId, out var node) ? node.Address : null;

    /// <summary>The address of the node named <paramref name="nodeId"/>, if known.</summary>
    public Uri? AddressOf(string nodeId) => AddressOf(RaftNodeIds.Of(nodeId));
}
