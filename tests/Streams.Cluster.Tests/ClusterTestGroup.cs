namespace Streams.Cluster.Tests;

/// <summary>
/// Every test here runs three node processes with fsync and 20 ms ticks: they run one at a time,
/// so that they neither slow each other down nor compete for ports.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTestGroup
{
    public const string Name = "Streams process cluster tests";
}
