using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Streams.Client.Api;
using Streams.Rpc.Client;
using Streams.Server.Hosting;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>A node asked to stop hands its delivery workers' shards over at once instead of after their session timeout.</summary>
public sealed class FirehoseWorkerStopTests
{
    [Fact]
    public async Task A_node_asked_to_stop_leaves_its_delivery_groups()
    {
        using var directory = new TempDirectory();
        var ports = FreePorts(2);
        string[] args =
        [
            "--grpc-port", ports[0].ToString(CultureInfo.InvariantCulture),
            "--http-port", ports[1].ToString(CultureInfo.InvariantCulture),
            "--data-dir", directory.Combine("data"),
            "--Logging:LogLevel:Default", "Warning",
            "--Cluster:TickMilliseconds", "10",
        ];
        var group = new GetCheckpointsRequest { StreamName = "orders", GroupName = "firehose.orders-out" };

        string member;
        var first = await StartAsync(args);
        try
        {
            using var channel = RpcChannel.ForAddress(first.GrpcAddress);
            var streams = new StreamsApiClient(channel);
            await streams.CreateStreamAsync(new CreateStreamRequest { StreamName = "orders", ShardCount = 1 }, ApiNode.Deadline());
            await WaitAsync(async () => (await streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = "orders" }, ApiNode.Deadline())).StreamDescriptionSummary.StreamStatus == StreamStatus.Active);
            await new FirehoseApiClient(channel).CreateDeliveryStreamAsync(new CreateDeliveryStreamRequest { DeliveryStreamName = "orders-out", SourceStreamName = "orders" }, ApiNode.Deadline());

            var consumers = new ConsumersApiClient(channel);
            GetCheckpointsResponse? checkpoints = null;
            await WaitAsync(async () =>
            {
                try
                {
                    checkpoints = await consumers.GetCheckpointsAsync(group, ApiNode.Deadline());
                    return checkpoints.Members.Count == 1;
                }
                catch (Streams.Rpc.RpcException ex) when (ex.StatusCode == Streams.Rpc.StatusCode.NotFound)
                {
                    return false;
                }
            });
            member = checkpoints!.Members[0].MemberId;
            Assert.StartsWith("node-1:", member, StringComparison.Ordinal);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Back within the 10 s session the worker had: had it not left, it would still be a live member.
        var second = await StartAsync(args);
        try
        {
            using var channel = RpcChannel.ForAddress(second.GrpcAddress);
            var response = await new ConsumersApiClient(channel).GetCheckpointsAsync(group, ApiNode.Deadline());
            Assert.DoesNotContain(member, response.Members.Select(m => m.MemberId));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private static async Task<StreamsNode> StartAsync(string[] args)
    {
        var node = StreamsNode.Create(new StreamsNodeSettings { Args = args, EnvironmentVariables = new Dictionary<string, string?>() });
        await node.StartAsync();
        return node;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold within 20 s");
            await Task.Delay(50);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
