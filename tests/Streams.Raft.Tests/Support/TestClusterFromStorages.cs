using Streams.Raft.Core;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Support;

/// <summary>A <see cref="TestCluster"/> whose nodes start from the given persisted logs (node i from storages[i - 1]).</summary>
public sealed class TestClusterFromStorages
{
    public TestClusterFromStorages(IReadOnlyList<MemoryRaftLog> storages, Func<RaftConfig, RaftConfig>? configure = null)
    {
        Cluster = new TestCluster(storages.Count, configure: (id, c) => configure?.Invoke(c) ?? c);
        foreach (var id in Cluster.Ids)
        {
            Cluster.Storages[id] = storages[(int)id - 1];
            Cluster.Restart(id);
        }
    }

    public TestCluster Cluster { get; }

    public RaftNode this[long id] => Cluster[id];

    public void Elect(long id, Func<Messages.Message, bool>? drop = null) => Cluster.Elect(id, drop);
}
