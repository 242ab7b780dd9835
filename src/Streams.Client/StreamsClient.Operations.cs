using Streams.Client.Api;
using Streams.Client.Routing;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client;

// One method per operation of the three services, each retried and routed by CallAsync.
public sealed partial class StreamsClient
{
    /// <summary>CreateStream: creates a stream of shard_count shards (CREATING until its shard groups elect leaders).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<CreateStreamResponse> CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.CreateStream, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DeleteStream.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DeleteStreamResponse> DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.DeleteStream, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>ListStreams: a page of stream names.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.ListStreams, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DescribeStreamSummary.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.DescribeStreamSummary, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>ListShards: a page of shards with their hash-key ranges, sequence ranges, replicas and leaders.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.ListShards, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>PutRecord, sent to the leader of the record's shard. A retry after an UNAVAILABLE may write the record twice unless the request names an idempotent producer.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var route = await RouteOfRecordAsync(request.StreamName, request.PartitionKey, request.ExplicitHashKey, cancellationToken).ConfigureAwait(false);
        return await CallAsync(StreamsMethods.PutRecord, request, route, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PutRecords, sent to the leader of the first record's shard (the node forwards the others). Check each entry's error_code: failed records are not retried here.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var route = await RouteOfRecordAsync(request.StreamName, request.Records.Count > 0 ? request.Records[0].PartitionKey : null, request.Records.Count > 0 ? request.Records[0].ExplicitHashKey : null, cancellationToken).ConfigureAwait(false);
        return await CallAsync(StreamsMethods.PutRecords, request, route, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GetShardIterator, sent to the shard's leader.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.GetShardIterator, request, RequestRoute.ToShard(request.StreamName, request.ShardId), cancellationToken);
    }

    /// <summary>GetRecords (any node serves it; the node holding the iterator's shard answers without a hop).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.GetRecords, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>SplitShard.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<SplitShardResponse> SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.SplitShard, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>MergeShards.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<MergeShardsResponse> MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.MergeShards, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>UpdateShardCount.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.UpdateShardCount, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>IncreaseStreamRetentionPeriod.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriodAsync(IncreaseStreamRetentionPeriodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.IncreaseStreamRetentionPeriod, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>DecreaseStreamRetentionPeriod.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriodAsync(DecreaseStreamRetentionPeriodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(StreamsMethods.DecreaseStreamRetentionPeriod, request, RequestRoute.ToStream(request.StreamName), cancellationToken);
    }

    /// <summary>JoinGroup: joins (or creates) a consumer group; the response holds the member's shard leases.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.JoinGroup, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>Heartbeat: keeps a member alive and answers its current leases.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.Heartbeat, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>LeaveGroup: hands the member's leases to the others at once.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.LeaveGroup, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>Checkpoint: stores how far the lease holder processed a shard; LeaseLostException when the lease moved on.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<CheckpointResponse> CheckpointAsync(CheckpointRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.Checkpoint, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>GetCheckpoints: the group's checkpoints, leases and members.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<GetCheckpointsResponse> GetCheckpointsAsync(GetCheckpointsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.GetCheckpoints, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DeleteGroup: forgets a group with no live member.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DeleteGroupResponse> DeleteGroupAsync(DeleteGroupRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ConsumersMethods.DeleteGroup, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>CreateDeliveryStream: creates a delivery stream; its workers start on every node within seconds.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<CreateDeliveryStreamResponse> CreateDeliveryStreamAsync(CreateDeliveryStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(FirehoseMethods.CreateDeliveryStream, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DescribeDeliveryStream: the delivery stream, its destination (without secrets) and its delivery progress shard by shard.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DescribeDeliveryStreamResponse> DescribeDeliveryStreamAsync(DescribeDeliveryStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(FirehoseMethods.DescribeDeliveryStream, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>ListDeliveryStreams: delivery stream names in name order, a page at a time.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListDeliveryStreamsResponse> ListDeliveryStreamsAsync(ListDeliveryStreamsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(FirehoseMethods.ListDeliveryStreams, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>UpdateDestination: replaces a delivery stream's destination; ConcurrentModificationException when current_version_id is not the current one.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<UpdateDestinationResponse> UpdateDestinationAsync(UpdateDestinationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(FirehoseMethods.UpdateDestination, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DeleteDeliveryStream: stops delivery and forgets the delivery stream and its consumer group; objects stay.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DeleteDeliveryStreamResponse> DeleteDeliveryStreamAsync(DeleteDeliveryStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(FirehoseMethods.DeleteDeliveryStream, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>DescribeCluster: members, Raft groups and leaders.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DescribeClusterResponse> DescribeClusterAsync(DescribeClusterRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ClusterMethods.DescribeCluster, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>AddNode.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<AddNodeResponse> AddNodeAsync(AddNodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ClusterMethods.AddNode, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>RemoveNode.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<RemoveNodeResponse> RemoveNodeAsync(RemoveNodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ClusterMethods.RemoveNode, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>TransferLeadership.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<TransferLeadershipResponse> TransferLeadershipAsync(TransferLeadershipRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(ClusterMethods.TransferLeadership, request, RequestRoute.None, cancellationToken);
    }

    /// <summary>
    /// GetRecords sent to the node leading <paramref name="shardId"/>, which answers without a hop;
    /// used by consumers, which know their shard.
    /// </summary>
    internal Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, string streamName, string shardId, CancellationToken cancellationToken) =>
        CallAsync(StreamsMethods.GetRecords, request, RequestRoute.ToShard(streamName, shardId), cancellationToken);

    /// <summary>
    /// SubscribeToShard: events pushed as records arrive, until the caller cancels or the closed shard
    /// was read to its end. Not retried: a consumer resubscribes after the last sequence number it saw.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    public AsyncServerStreamingCall<SubscribeToShardEvent> SubscribeToShard(SubscribeToShardRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new StreamsApiClient(ChannelFor(CurrentEndpoint)).SubscribeToShard(request, new CallOptions { CancellationToken = cancellationToken });
    }

    /// <summary>Creates a stream and waits until it is ACTIVE.</summary>
    /// <param name="streamName">The stream's name.</param>
    /// <param name="shardCount">Its shards.</param>
    /// <param name="cancellationToken">Cancels the wait (the stream may still be created).</param>
    public async Task CreateStreamAndWaitAsync(string streamName, int shardCount, CancellationToken cancellationToken = default)
    {
        await CreateStreamAsync(new CreateStreamRequest { StreamName = streamName, ShardCount = shardCount }, cancellationToken).ConfigureAwait(false);
        await WaitForStreamActiveAsync(streamName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until the stream is ACTIVE (after CreateStream or a resharding).</summary>
    /// <param name="streamName">The stream.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task WaitForStreamActiveAsync(string streamName, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var summary = await DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, cancellationToken).ConfigureAwait(false);
            if (summary.StreamDescriptionSummary.StreamStatus == StreamStatus.Active)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<RequestRoute> RouteOfRecordAsync(string streamName, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken)
    {
        if (!Options.RouteToShardLeaders || string.IsNullOrEmpty(streamName) || partitionKey is null)
        {
            return RequestRoute.ToStream(streamName);
        }

        try
        {
            var map = await GetShardMapAsync(streamName, cancellationToken).ConfigureAwait(false);
            return map.ShardFor(partitionKey, explicitHashKey) is { } shard ? RequestRoute.ToShard(streamName, shard.ShardId) : RequestRoute.ToStream(streamName);
        }
        catch (StreamsException)
        {
            // No map (the stream may not exist): any node answers, with the server's own error.
            return RequestRoute.ToStream(streamName);
        }
    }
}
