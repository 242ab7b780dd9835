using System.Collections.Immutable;
using Streams.V1;

namespace Streams.Client.Routing;

/// <summary>
/// A stream's shards as the client last saw them: which open shard holds a hash key, and where each
/// shard's leader listens. Immutable; a stale map only costs a forwarding hop on the server, which
/// routes every record by its own current metadata.
/// </summary>
public sealed class ShardMap
{
    private readonly ImmutableArray<ShardRoute> _open;
    private readonly ImmutableDictionary<string, ShardRoute> _byId;

    private ShardMap(string streamName, ImmutableArray<ShardRoute> all)
    {
        StreamName = streamName;
        Shards = all;
        _byId = all.ToImmutableDictionary(s => s.ShardId, StringComparer.Ordinal);
        _open = [.. all.Where(s => s.IsOpen).OrderBy(s => s.StartingHashKey)];
    }

    /// <summary>The stream.</summary>
    public string StreamName { get; }

    /// <summary>Every shard, open and closed, in shard id order.</summary>
    public ImmutableArray<ShardRoute> Shards { get; }

    /// <summary>The open shards, in hash-key order.</summary>
    public ImmutableArray<ShardRoute> OpenShards => _open;

    /// <summary>Builds a map from ListShards' shards and the members' addresses (node id to address).</summary>
    /// <param name="streamName">The stream.</param>
    /// <param name="shards">Its shards.</param>
    /// <param name="nodeAddresses">Each node's gRPC address, by node id.</param>
    public static ShardMap Create(string streamName, IEnumerable<Shard> shards, IReadOnlyDictionary<string, Uri> nodeAddresses)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(nodeAddresses);
        var routes = shards
            .Select(s => new ShardRoute(
                s.ShardId,
                ParseKey(s.HashKeyRange?.StartingHashKey, UInt128.Zero),
                ParseKey(s.HashKeyRange?.EndingHashKey, UInt128.MaxValue),
                IsOpen: string.IsNullOrEmpty(s.SequenceNumberRange?.EndingSequenceNumber),
                Leader: s.Leader,
                LeaderAddress: s.Leader.Length > 0 && nodeAddresses.TryGetValue(s.Leader, out var address) ? address : null,
                ParentShardIds: [.. ParentsOf(s)]))
            .OrderBy(r => r.ShardId, StringComparer.Ordinal)
            .ToImmutableArray();
        return new ShardMap(streamName, routes);
    }

    /// <summary>The open shard whose range holds <paramref name="hashKey"/>, or null when none does (the map is stale).</summary>
    /// <param name="hashKey">A 128-bit hash key.</param>
    public ShardRoute? ShardFor(UInt128 hashKey)
    {
        int low = 0, high = _open.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var shard = _open[mid];
            if (hashKey < shard.StartingHashKey)
            {
                high = mid - 1;
            }
            else if (hashKey > shard.EndingHashKey)
            {
                low = mid + 1;
            }
            else
            {
                return shard;
            }
        }

        return null;
    }

    /// <summary>The open shard for a record: its explicit hash key when set, else the MD5 of its partition key.</summary>
    /// <param name="partitionKey">The partition key.</param>
    /// <param name="explicitHashKey">The explicit hash key, or null or empty.</param>
    public ShardRoute? ShardFor(string partitionKey, string? explicitHashKey = null)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (!string.IsNullOrEmpty(explicitHashKey))
        {
            return HashKey.TryParse(explicitHashKey, out var key) ? ShardFor(key) : null;
        }

        return ShardFor(HashKey.FromPartitionKey(partitionKey));
    }

    /// <summary>A shard by id, or null.</summary>
    /// <param name="shardId">The shard id.</param>
    public ShardRoute? Find(string shardId) => _byId.TryGetValue(shardId, out var route) ? route : null;

    private static IEnumerable<string> ParentsOf(Shard shard)
    {
        if (shard.ParentShardIds.Count > 0)
        {
            return shard.ParentShardIds;
        }

        return new[] { shard.ParentShardId, shard.AdjacentParentShardId }.Where(p => !string.IsNullOrEmpty(p));
    }

    private static UInt128 ParseKey(string? text, UInt128 fallback) =>
        HashKey.TryParse(text, out var value) ? value : fallback;
}
