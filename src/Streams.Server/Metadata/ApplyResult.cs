using System.Collections.Immutable;

namespace Streams.Server.Metadata;

/// <summary>What applying one controller command did: a refusal, or success and what changed.</summary>
public sealed record ApplyResult
{
    /// <summary>Success that changed nothing (a repeated or stale command).</summary>
    public static ApplyResult Unchanged { get; } = new();

    /// <summary>The refusal, or null on success.</summary>
    public MetadataError? Error { get; init; }

    /// <summary>True unless refused.</summary>
    public bool Succeeded => Error is null;

    /// <summary>True when the state changed.</summary>
    public bool Changed { get; init; }

    /// <summary>Shards the command opened, in id order (CreateStream, SplitShard, MergeShards, UpdateShardCount).</summary>
    public ImmutableArray<string> CreatedShardIds { get; init; } = [];

    /// <summary>The Raft groups of <see cref="CreatedShardIds"/>, in the same order: the runtime starts them.</summary>
    public ImmutableArray<long> CreatedGroupIds { get; init; } = [];

    /// <summary>Shards the command closed, in id order: the runtime seals their groups.</summary>
    public ImmutableArray<string> ClosedShardIds { get; init; } = [];

    /// <summary>For UpdateShardCount: the open shards before it.</summary>
    public int OpenShardCountBefore { get; init; }

    /// <summary>For AddNode: the node's Raft id.</summary>
    public long RaftId { get; init; }

    /// <summary>A refusal.</summary>
    /// <param name="error">Why.</param>
    public static ApplyResult Refused(MetadataError error) => new() { Error = error };

    /// <summary>Success that changed the state.</summary>
    public static ApplyResult Done { get; } = new() { Changed = true };
}
