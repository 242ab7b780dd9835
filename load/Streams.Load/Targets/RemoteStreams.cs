using System.Globalization;
using Streams.Client.Api;
using Streams.Load.ClusterBench;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.Targets;

/// <summary>Stream set-up on a cluster this harness did not start: delete (if there), create, wait until ACTIVE with leaders.</summary>
internal sealed class RemoteStreams(IReadOnlyList<StreamsApiClient> clients, IReadOnlyList<Uri> endpoints)
{
    private static readonly TimeSpan _limit = TimeSpan.FromSeconds(60);

    public async Task<IReadOnlyList<ShardInfo>> CreateStreamAsync(string name, int shards, int replicationFactor, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + _limit;
        var api = clients[0];
        try
        {
            using var delete = api.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name }, Deadline(cancellationToken));
            await delete.ResponseAsync.ConfigureAwait(false);
            while (DateTimeOffset.UtcNow < until)
            {
                using var list = api.ListStreamsAsync(new ListStreamsRequest(), Deadline(cancellationToken));
                if (!(await list.ResponseAsync.ConfigureAwait(false)).StreamNames.Contains(name))
                {
                    break;
                }

                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
        }

        using (var create = api.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = shards, ReplicationFactor = replicationFactor }, Deadline(cancellationToken)))
        {
            await create.ResponseAsync.ConfigureAwait(false);
        }

        while (true)
        {
            using var call = api.ListShardsAsync(new ListShardsRequest { StreamName = name }, Deadline(cancellationToken));
            var response = await call.ResponseAsync.ConfigureAwait(false);
            var map = LocalCluster.ShardMap(response, IndexOf);
            if (map.Count == shards && map.All(s => s.Leader >= 0))
            {
                return map;
            }

            if (DateTimeOffset.UtcNow > until)
            {
                throw new TimeoutException($"Stream {name} has no leader for every shard {_limit.TotalSeconds:F0} s after it was created.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    // A leader is named by node id; a cluster given by addresses is matched by position: node-i is the i-th address.
    private int IndexOf(string nodeId) =>
        nodeId.StartsWith("node-", StringComparison.Ordinal) && int.TryParse(nodeId.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= 1 && i <= endpoints.Count ? i - 1 : (nodeId.Length > 0 ? 0 : -1);

    private static CallOptions Deadline(CancellationToken cancellationToken) => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(10), CancellationToken = cancellationToken };
}
