using System.Text;
using Streams.Client.Api;
using Streams.Faults.Checking;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Faults.Workload;

/// <summary>
/// Reads shards whole, from TRIM_HORIZON to the end, through one node: every node serves reads
/// from its own replica (a node without one forwards), so reading through each node compares them.
/// </summary>
internal sealed class ReplicaReader(string nodeId, Uri endpoint) : IDisposable
{
    private readonly RpcChannel _channel = RpcChannel.ForAddress(endpoint, new RpcChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(3), MaxReceiveMessageSizeBytes = 64 * 1024 * 1024 });

    public string NodeId => nodeId;

    /// <summary>The whole shard; throws <see cref="RpcException"/> when the node cannot serve it now.</summary>
    public async Task<ShardReplicaRead> ReadAsync(string streamName, string shardId, CancellationToken cancellationToken)
    {
        var api = new StreamsApiClient(_channel);
        var iterator = (await api.GetShardIteratorAsync(
            new GetShardIteratorRequest { StreamName = streamName, ShardId = shardId, ShardIteratorType = ShardIteratorType.TrimHorizon },
            Call(cancellationToken))).ShardIterator;
        var records = new List<StoredRecord>();
        while (true)
        {
            var response = await api.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, Call(cancellationToken));
            foreach (var record in response.Records)
            {
                var head = Encoding.ASCII.GetString(record.Data.Span[..Math.Min(record.Data.Length, 64)]);
                records.Add(new StoredRecord(record.SequenceNumber, RecordId.TryParse(head, out var id) ? id : null, record.PartitionKey));
            }

            if (response.NextShardIterator.Length == 0 || (response.Records.Count == 0 && response.MillisBehindLatest == 0))
            {
                return new ShardReplicaRead(nodeId, shardId, records);
            }

            iterator = response.NextShardIterator;
        }
    }

    public void Dispose() => _channel.Dispose();

    private static CallOptions Call(CancellationToken cancellationToken) =>
        new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(20), CancellationToken = cancellationToken };
}
