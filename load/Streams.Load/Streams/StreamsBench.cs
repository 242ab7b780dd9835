using System.Globalization;

namespace Streams.Load.ClusterBench;

/// <summary>What every workload works on: the cluster, the stream, its shards and leaders, the partition keys.</summary>
internal sealed class StreamsBench(StreamsSettings settings, LocalCluster cluster, string streamName, IReadOnlyList<ShardInfo> shards)
{
    public StreamsSettings Settings => settings;

    public LocalCluster Cluster => cluster;

    public string StreamName => streamName;

    public RecordSource Records { get; } = new(shards);

    /// <summary>The shards with their leaders as last read (<see cref="RefreshAsync"/>).</summary>
    public IReadOnlyList<ShardInfo> Shards { get; private set; } = shards;

    /// <summary>The shards and leaders when the stream became ready.</summary>
    public IReadOnlyList<ShardInfo> InitialShards { get; } = shards;

    /// <summary>Shard leaders seen to move between runs.</summary>
    public List<string> LeaderMoves { get; } = [];

    /// <summary>Reads the leaders again, so that leader runs go to the current ones; notes any that moved.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = await cluster.ListShardsAsync(streamName, cancellationToken).ConfigureAwait(false);
        var updated = new List<ShardInfo>();
        foreach (var shard in now)
        {
            var before = Shards.FirstOrDefault(s => s.ShardId == shard.ShardId);
            if (shard.Leader < 0)
            {
                // No leader known this instant (an election): keep sending to the previous one, which forwards.
                updated.Add(before is null ? shard : shard with { Leader = before.Leader });
                continue;
            }

            if (before is not null && before.Leader != shard.Leader)
            {
                var move = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:HH:mm:ss} {shard.ShardId}: {cluster.Nodes[before.Leader].Name} -> {cluster.Nodes[shard.Leader].Name}");
                LeaderMoves.Add(move);
                Session.Progress("leader moved: " + move);
            }

            updated.Add(shard);
        }

        Shards = updated;
    }

    /// <summary>Which node leads each shard, as text.</summary>
    public string DescribeLeaders(IReadOnlyList<ShardInfo> shards) =>
        string.Join(", ", shards.Select(s => $"{s.ShardId} {(s.Leader >= 0 ? cluster.Nodes[s.Leader].Name : "(none)")}"));
}
