using System.Globalization;
using Streams.Client.Api;
using Streams.Load.ClusterBench;
using Streams.Rpc.Client;

namespace Streams.Load.Targets;

/// <summary>
/// The Streams cluster a scenario drives: one this harness starts (node processes on this machine,
/// a given durability) or one already running, given by its addresses. Knows how to say what an
/// acknowledgement means there, and makes the streams scenarios write to.
/// </summary>
internal sealed class StreamsDeployment : IAsyncDisposable
{
    private readonly LocalCluster? _cluster;
    private readonly RpcChannel[] _channels;

    private StreamsDeployment(IReadOnlyList<Uri> endpoints, int nodes, int replicationFactor, string durability, LocalCluster? cluster)
    {
        Endpoints = endpoints;
        Nodes = nodes;
        ReplicationFactor = replicationFactor;
        Durability = durability;
        _cluster = cluster;
        var options = new RpcChannelOptions { MaxReceiveMessageSizeBytes = 64 * 1024 * 1024, MaxSendMessageSizeBytes = 64 * 1024 * 1024 };
        _channels = [.. endpoints.Select(e => RpcChannel.ForAddress(e, options))];
        Clients = [.. _channels.Select(c => new StreamsApiClient(c))];
    }

    public IReadOnlyList<Uri> Endpoints { get; }

    /// <summary>One API client per node, in the order of <see cref="Endpoints"/>.</summary>
    public IReadOnlyList<StreamsApiClient> Clients { get; }

    public int Nodes { get; }

    public int ReplicationFactor { get; }

    /// <summary><c>always</c>, <c>interval</c>, <c>never</c>, or <c>as configured</c> for a cluster not started here.</summary>
    public string Durability { get; }

    public string Setup => string.Create(CultureInfo.InvariantCulture, $"{Nodes} node{(Nodes == 1 ? "" : "s")}, RF {ReplicationFactor}, durability {Durability}");

    /// <summary>What an acknowledgement from this cluster means.</summary>
    public string Guarantee
    {
        get
        {
            var who = ReplicationFactor == 1 ? "the leader" : string.Create(CultureInfo.InvariantCulture, $"a majority ({(ReplicationFactor / 2) + 1} of {ReplicationFactor}) of the replicas");
            return Durability switch
            {
                "always" => $"acknowledged once {who} fsynced it",
                "interval" => $"acknowledged once {who} wrote it (fsync every 50 ms)",
                "never" => $"acknowledged once {who} wrote it (no fsync)",
                _ => $"acknowledged once {who} has it (durability as the cluster is configured)",
            };
        }
    }

    /// <summary>Starts <paramref name="nodes"/> node processes under <paramref name="directory"/> with <paramref name="durability"/>.</summary>
    public static async Task<StreamsDeployment> StartAsync(int nodes, int replicationFactor, string durability, string directory, CancellationToken cancellationToken)
    {
        if (replicationFactor < 1 || replicationFactor > nodes)
        {
            throw new ArgumentException($"The replication factor ({replicationFactor}) must be 1 to the number of nodes ({nodes}).");
        }

        var cluster = await LocalCluster.StartAsync(nodes, Path.Combine(directory, "data"), Path.Combine(directory, "logs"), durability, cancellationToken).ConfigureAwait(false);
        return new StreamsDeployment([.. cluster.Nodes.Select(n => n.GrpcAddress)], nodes, replicationFactor, durability, cluster);
    }

    /// <summary>A cluster already running at <paramref name="endpoints"/>; streams made on it get <paramref name="replicationFactor"/> replicas.</summary>
    public static StreamsDeployment Existing(IReadOnlyList<Uri> endpoints, int replicationFactor) =>
        new(endpoints, endpoints.Count, replicationFactor, "as configured", null);

    /// <summary>Makes a stream of <paramref name="shards"/> shards (deleting one of that name first) and returns its shards with their leaders.</summary>
    public async Task<IReadOnlyList<ShardInfo>> CreateStreamAsync(string name, int shards, CancellationToken cancellationToken)
    {
        if (_cluster is not null)
        {
            return await _cluster.CreateStreamAsync(name, shards, ReplicationFactor, cancellationToken).ConfigureAwait(false);
        }

        var remote = new RemoteStreams(Clients, Endpoints);
        return await remote.CreateStreamAsync(name, shards, ReplicationFactor, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>CPU time the nodes used so far, when they run here.</summary>
    public TimeSpan? NodeCpu => _cluster?.CpuTime;

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }
    }
}
