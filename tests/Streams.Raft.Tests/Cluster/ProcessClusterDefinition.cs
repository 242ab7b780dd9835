namespace Streams.Raft.Tests.Cluster;

/// <summary>
/// Tests that run a cluster of real node processes run alone: three processes with fsync and
/// 25 ms ticks would slow the timing-sensitive in-process tests, and be slowed by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterDefinition
{
    public const string Name = "Raft process cluster";
}
