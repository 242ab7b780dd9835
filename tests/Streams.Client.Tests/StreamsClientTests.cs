using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Client.Tests;

public sealed class StreamsClientTests(ClientNode node) : IClassFixture<ClientNode>
{
    [Fact]
    public async Task PutRecord_lands_on_the_record_shard_and_reads_back()
    {
        var stream = await node.NewActiveStreamAsync("client-put", 4);
        var put = await node.Client.PutRecordAsync(new PutRecordRequest { StreamName = stream, PartitionKey = "alpha", Data = ByteString.CopyFromUtf8("one") });

        var map = await node.Client.GetShardMapAsync(stream);
        Assert.Equal(map.ShardFor("alpha")!.ShardId, put.ShardId);
        var iterator = await node.Client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = put.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon });
        var records = await node.Client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator });
        var record = Assert.Single(records.Records);
        Assert.Equal(put.SequenceNumber, record.SequenceNumber);
        Assert.Equal("one", record.Data.ToStringUtf8());
    }

    [Fact]
    public async Task A_refusal_is_a_StreamsException_with_the_error_name_and_is_not_retried()
    {
        using var client = node.NewClient(o => new StreamsClientOptions { Endpoints = o.Endpoints, MaxAttempts = 5 });
        var error = await Assert.ThrowsAsync<StreamsException>(() => client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = "no-such-stream" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(StreamsErrors.ResourceNotFound, error.ErrorCode);
        Assert.Contains("no-such-stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_endpoint_hands_over_to_the_next_one()
    {
        var dead = new Uri($"http://127.0.0.1:{FreePort()}");
        using var client = new StreamsClient(new StreamsClientOptions { Endpoints = [dead, node.Address], InitialRetryDelay = TimeSpan.FromMilliseconds(5) });
        var response = await client.ListStreamsAsync(new ListStreamsRequest());
        Assert.NotNull(response);
        Assert.Equal(node.Address, client.CurrentEndpoint);
    }

    [Fact]
    public async Task When_no_node_answers_the_call_gives_up_after_its_attempts_as_UNAVAILABLE()
    {
        var dead = new Uri($"http://127.0.0.1:{FreePort()}");
        using var client = new StreamsClient(new StreamsClientOptions { Endpoints = [dead], MaxAttempts = 3, InitialRetryDelay = TimeSpan.FromMilliseconds(5) });
        var error = await Assert.ThrowsAsync<StreamsException>(() => client.ListStreamsAsync(new ListStreamsRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task A_cancelled_call_throws_OperationCanceledException()
    {
        var dead = new Uri($"http://127.0.0.1:{FreePort()}");
        using var client = new StreamsClient(new StreamsClientOptions { Endpoints = [dead], MaxAttempts = 1000, InitialRetryDelay = TimeSpan.FromMilliseconds(20) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ListStreamsAsync(new ListStreamsRequest(), cancel.Token));
    }

    [Fact]
    public async Task The_shard_map_follows_a_split_once_invalidated()
    {
        var stream = await node.NewActiveStreamAsync("client-map", 1);
        var before = await node.Client.GetShardMapAsync(stream);
        Assert.Single(before.OpenShards);

        await node.Client.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = before.OpenShards[0].ShardId, NewStartingHashKey = "170141183460469231731687303715884105728" });
        await node.Client.WaitForStreamActiveAsync(stream);
        Assert.Same(before, await node.Client.GetShardMapAsync(stream));

        node.Client.InvalidateShardMap(stream);
        var after = await node.Client.GetShardMapAsync(stream);
        Assert.Equal(2, after.OpenShards.Length);
        Assert.All(after.OpenShards, s => Assert.Equal([before.OpenShards[0].ShardId], s.ParentShardIds.ToArray()));
        Assert.False(after.Find(before.OpenShards[0].ShardId)!.IsOpen);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
