using Streams.Storage.Segments;

namespace Streams.Server.Configuration;

/// <summary>
/// How a node forms and joins a cluster, and how it stores shards: configuration section
/// <c>Cluster</c> (appsettings.json, then <c>STREAMS_Cluster__*</c>, then the command line).
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string SectionName = "Cluster";

    /// <summary>The most replicas a shard may have.</summary>
    public const int MaxReplicationFactor = 7;

    /// <summary>
    /// The nodes that form the cluster at its first start, as <c>id=address</c> pairs separated by
    /// commas, such as <c>node-1=http://10.0.0.1:7400,node-2=http://10.0.0.2:7400</c>; this node's
    /// own entry included. Empty: a one-node cluster of this node alone.
    /// </summary>
    public string Peers { get; init; } = "";

    /// <summary>
    /// The gRPC address other nodes and forwarded requests use to reach this node. Empty: its entry
    /// in <see cref="Peers"/>, else the bound gRPC address.
    /// </summary>
    public string AdvertiseAddress { get; init; } = "";

    /// <summary>
    /// Start without forming a cluster and wait to be added to an existing one (Cluster.AddNode);
    /// for nodes that grow a running cluster.
    /// </summary>
    public bool Join { get; init; }

    /// <summary>One Raft tick; elections take 10 to 20 ticks without a leader's heartbeat.</summary>
    public int TickMilliseconds { get; init; } = 50;

    /// <summary>Replicas per shard when CreateStream does not say (at most the number of nodes).</summary>
    public int DefaultReplicationFactor { get; init; } = 3;

    /// <summary>When a shard's writes are fsynced: <c>always</c> before acknowledging (group commit), <c>interval</c>, or <c>never</c>.</summary>
    public string Durability { get; init; } = "always";

    /// <summary>The size at which a shard's segment file rolls.</summary>
    public long SegmentSizeBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>The most shards a stream may have (open ones; Kinesis' default quota).</summary>
    public int MaxShardsPerStream { get; init; } = 500;

    /// <summary>The most streams the cluster holds.</summary>
    public int MaxStreams { get; init; } = 1000;

    /// <summary>The durability policy; call after <see cref="Validate"/> found nothing wrong.</summary>
    public DurabilityPolicy DurabilityPolicy => Durability.ToLowerInvariant() switch
    {
        "interval" => DurabilityPolicy.Interval,
        "never" => DurabilityPolicy.Never,
        _ => DurabilityPolicy.Always,
    };

    /// <summary>The parsed <see cref="Peers"/>; call after <see cref="Validate"/> found nothing wrong.</summary>
    public IReadOnlyList<KeyValuePair<string, Uri>> ParsePeers()
    {
        var peers = new List<KeyValuePair<string, Uri>>();
        foreach (var item in Peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !Uri.TryCreate(item[(equals + 1)..], UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            {
                throw new FormatException($"Cluster:Peers (--peers) entry '{item}' is not id=address; write it like node-1=http://127.0.0.1:7400.");
            }

            peers.Add(new(item[..equals], address));
        }

        return peers;
    }

    /// <summary>Checks the settings; returns one message per problem, each saying what to change (empty: all good).</summary>
    /// <param name="nodeId">This node's id, which must be among the peers when peers are given.</param>
    public IReadOnlyList<string> Validate(string nodeId)
    {
        var problems = new List<string>();
        try
        {
            var peers = ParsePeers();
            var duplicate = peers.GroupBy(p => p.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                problems.Add($"Cluster:Peers (--peers) names '{duplicate.Key}' twice; give each node one entry.");
            }

            if (peers.Count > 0 && !Join && peers.All(p => p.Key != nodeId))
            {
                problems.Add($"Cluster:Peers (--peers) does not name this node '{nodeId}'; add '{nodeId}=<its gRPC address>' or set --node-id to one of {string.Join(", ", peers.Select(p => p.Key))}.");
            }
        }
        catch (FormatException ex)
        {
            problems.Add(ex.Message);
        }

        if (!string.IsNullOrEmpty(AdvertiseAddress) && (!Uri.TryCreate(AdvertiseAddress, UriKind.Absolute, out var advertised) || advertised.Scheme is not ("http" or "https")))
        {
            problems.Add($"Cluster:AdvertiseAddress (--advertise) is '{AdvertiseAddress}'; use the address other nodes reach this node's gRPC port at, such as http://10.0.0.1:7400.");
        }

        if (TickMilliseconds is < 1 or > 10_000)
        {
            problems.Add($"Cluster:TickMilliseconds is {TickMilliseconds}; use 1 to 10000 (the default is 50).");
        }

        if (DefaultReplicationFactor is < 1 or > MaxReplicationFactor)
        {
            problems.Add($"Cluster:DefaultReplicationFactor (--replication-factor) is {DefaultReplicationFactor}; use 1 to {MaxReplicationFactor} (the default is 3).");
        }

        if (Durability.ToLowerInvariant() is not ("always" or "interval" or "never"))
        {
            problems.Add($"Cluster:Durability (--durability) is '{Durability}'; use always (fsync before acknowledging, the default), interval or never.");
        }

        if (SegmentSizeBytes is < SegmentLogOptions.MinSegmentSizeBytes or > SegmentLogOptions.MaxSegmentSizeBytes)
        {
            problems.Add($"Cluster:SegmentSizeBytes is {SegmentSizeBytes}; use {SegmentLogOptions.MinSegmentSizeBytes} to {SegmentLogOptions.MaxSegmentSizeBytes} (the default is 134217728, 128 MiB).");
        }

        if (MaxShardsPerStream is < 1 or > 100_000)
        {
            problems.Add($"Cluster:MaxShardsPerStream is {MaxShardsPerStream}; use 1 to 100000 (the default is 500).");
        }

        if (MaxStreams is < 1 or > 100_000)
        {
            problems.Add($"Cluster:MaxStreams is {MaxStreams}; use 1 to 100000 (the default is 1000).");
        }

        return problems;
    }
}
