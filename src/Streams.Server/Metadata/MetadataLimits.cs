using Streams.Server.Metadata.V1;

namespace Streams.Server.Metadata;

/// <summary>
/// The limits the controller enforces. They live in the controller state (set by Bootstrap, changed
/// by UpdateLimits), not in each node's configuration, so every node refuses the same commands.
/// </summary>
public sealed record MetadataLimits
{
    /// <summary>The defaults.</summary>
    public static MetadataLimits Default { get; } = new();

    /// <summary>The most streams the cluster holds (Kinesis sets none for provisioned streams; a cluster has to).</summary>
    public int MaxStreams { get; init; } = 1000;

    /// <summary>
    /// The most open shards a stream may have: 500, Kinesis' long-standing default per-stream quota
    /// (its documentation now says 10,000 per stream and 1,000 to 20,000 per account).
    /// </summary>
    public int MaxShardsPerStream { get; init; } = 500;

    /// <summary>The shortest retention, 24 hours (as Kinesis).</summary>
    public int MinRetentionHours { get; init; } = 24;

    /// <summary>The longest retention, 8,760 hours (365 days, as Kinesis).</summary>
    public int MaxRetentionHours { get; init; } = 8760;

    /// <summary>The retention of a stream created without one.</summary>
    public int DefaultRetentionHours { get; init; } = 24;

    /// <summary>Replicas per shard when CreateStream does not say (at most the nodes that take replicas).</summary>
    public int DefaultReplicationFactor { get; init; } = 3;

    /// <summary>The most replicas a shard may have.</summary>
    public int MaxReplicationFactor { get; init; } = 7;

    /// <summary>One message per inconsistent value (empty: all good).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxStreams < 1)
        {
            problems.Add($"max_streams is {MaxStreams}; use at least 1.");
        }

        if (MaxShardsPerStream < 1)
        {
            problems.Add($"max_shards_per_stream is {MaxShardsPerStream}; use at least 1.");
        }

        if (MinRetentionHours < 1 || MinRetentionHours > MaxRetentionHours)
        {
            problems.Add($"min_retention_hours is {MinRetentionHours} and max_retention_hours {MaxRetentionHours}; use 1 <= min <= max.");
        }

        if (DefaultRetentionHours < MinRetentionHours || DefaultRetentionHours > MaxRetentionHours)
        {
            problems.Add($"default_retention_hours is {DefaultRetentionHours}; use {MinRetentionHours} to {MaxRetentionHours}.");
        }

        if (MaxReplicationFactor < 1)
        {
            problems.Add($"max_replication_factor is {MaxReplicationFactor}; use at least 1.");
        }

        if (DefaultReplicationFactor < 1 || DefaultReplicationFactor > MaxReplicationFactor)
        {
            problems.Add($"default_replication_factor is {DefaultReplicationFactor}; use 1 to {MaxReplicationFactor}.");
        }

        return problems;
    }

    /// <summary>The stored form, for Bootstrap and UpdateLimits commands.</summary>
    public LimitsSpec ToSpec() => new()
    {
        MaxStreams = MaxStreams,
        MaxShardsPerStream = MaxShardsPerStream,
        MinRetentionHours = MinRetentionHours,
        MaxRetentionHours = MaxRetentionHours,
        DefaultRetentionHours = DefaultRetentionHours,
        DefaultReplicationFactor = DefaultReplicationFactor,
        MaxReplicationFactor = MaxReplicationFactor,
    };

    /// <summary>Reads the stored form (not validated: see <see cref="Validate"/>).</summary>
    /// <param name="spec">The stored form.</param>
    public static MetadataLimits FromSpec(LimitsSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new()
        {
            MaxStreams = spec.MaxStreams,
            MaxShardsPerStream = spec.MaxShardsPerStream,
            MinRetentionHours = spec.MinRetentionHours,
            MaxRetentionHours = spec.MaxRetentionHours,
            DefaultRetentionHours = spec.DefaultRetentionHours,
            DefaultReplicationFactor = spec.DefaultReplicationFactor,
            MaxReplicationFactor = spec.MaxReplicationFactor,
        };
    }
}
