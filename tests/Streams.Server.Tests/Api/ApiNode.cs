using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Server.Tests.Api;

/// <summary>A one-node cluster in-process with a client of its API, for the API tests.</summary>
public sealed class ApiNode : IAsyncDisposable
{
    private ApiNode(TestNode node, RpcChannel channel)
    {
        Node = node;
        Channel = channel;
        Streams = new StreamsApiClient(channel);
        Cluster = new ClusterApiClient(channel);
    }

    public TestNode Node { get; }

    public RpcChannel Channel { get; }

    public StreamsApiClient Streams { get; }

    public ClusterApiClient Cluster { get; }

    public static async Task<ApiNode> StartAsync(params string[] args)
    {
        var node = await TestNode.StartAsync(["--Cluster:TickMilliseconds", "10", .. args]);
        var channel = RpcChannel.ForAddress(node.Node.GrpcAddress, new RpcChannelOptions { MaxReceiveMessageSizeBytes = 64 * 1024 * 1024, MaxSendMessageSizeBytes = 64 * 1024 * 1024 });
        return new ApiNode(node, channel);
    }

    public static CallOptions Deadline(int seconds = 20) => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(seconds) };

    /// <summary>Creates a stream and waits until it is ACTIVE.</summary>
    public async Task CreateActiveStreamAsync(string name, int shards)
    {
        await Streams.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = shards }, Deadline());
        await WaitActiveAsync(name);
    }

    public async Task WaitActiveAsync(string name)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var summary = await Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, Deadline());
            if (summary.StreamDescriptionSummary.StreamStatus == StreamStatus.Active)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, $"stream {name} is still {summary.StreamDescriptionSummary.StreamStatus} after 20 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Every record of a shard from the trim horizon, by GetRecords until caught up.</summary>
    public async Task<List<Record>> ReadShardAsync(string stream, string shardId)
    {
        var iterator = (await Streams.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shardId, ShardIteratorType = ShardIteratorType.TrimHorizon }, Deadline())).ShardIterator;
        var records = new List<Record>();
        while (iterator.Length > 0)
        {
            var page = await Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator }, Deadline());
            records.AddRange(page.Records);
            if (page.Records.Count == 0 && page.MillisBehindLatest == 0)
            {
                break;
            }

            iterator = page.NextShardIterator;
        }

        return records;
    }

    public static PutRecordsRequestEntry Entry(string key, string data) => new() { PartitionKey = key, Data = ByteString.CopyFromUtf8(data) };

    /// <summary>The status and streams-error trailer of a failed call.</summary>
    public static async Task<(StatusCode Code, string? Error, string Message)> FailureOf(Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        return (ex.StatusCode, ex.Trailers.GetValue(StreamsErrors.TrailerName), ex.Status.Detail);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Node.DisposeAsync();
    }
}
