using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Streams.Server.Cluster;

/// <summary>
/// Raft numbers nodes; people name them. A node's Raft id is derived from its name (the first 63
/// bits of the name's SHA-256), so every node computes the same id for a peer without asking, and
/// a restarted node keeps its id.
/// </summary>
internal static class RaftNodeIds
{
    /// <summary>The Raft id of the node named <paramref name="nodeId"/>; never 0.</summary>
    public static long Of(string nodeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(nodeId), hash);
        var id = BinaryPrimitives.ReadInt64BigEndian(hash) & long.MaxValue;
        return id == 0 ? 1 : id;
    }
}
