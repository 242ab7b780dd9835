using System.Collections.Immutable;

namespace Streams.Client.Routing;

/// <summary>One shard in a <see cref="ShardMap"/>.</summary>
/// <param name="ShardId">The shard id.</param>
/// <param name="StartingHashKey">The first hash key it holds.</param>
/// <param name="EndingHashKey">The last hash key it holds.</param>
/// <param name="IsOpen">True while it takes writes.</param>
/// <param name="Leader">The node leading its Raft group, or empty when unknown.</param>
/// <param name="LeaderAddress">That node's gRPC address, or null when unknown.</param>
/// <param name="ParentShardIds">Its parents (after a split, merge or rescale), or none.</param>
public sealed record ShardRoute(
    string ShardId,
    UInt128 StartingHashKey,
    UInt128 EndingHashKey,
    bool IsOpen,
    string Leader,
    Uri? LeaderAddress,
    ImmutableArray<string> ParentShardIds);
