using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>
/// The raw client of <c>streams.v1.Streams</c>: one call per operation, no retries. Any node
/// accepts any request.
/// </summary>
public sealed class StreamsApiClient(RpcChannel channel)
{
    /// <summary>CreateStream.</summary>
    public AsyncUnaryCall<CreateStreamResponse> CreateStreamAsync(CreateStreamRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.CreateStream, request, options);

    /// <summary>DeleteStream.</summary>
    public AsyncUnaryCall<DeleteStreamResponse> DeleteStreamAsync(DeleteStreamRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.DeleteStream, request, options);

    /// <summary>ListStreams.</summary>
    public AsyncUnaryCall<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.ListStreams, request, options);

    /// <summary>DescribeStreamSummary.</summary>
    public AsyncUnaryCall<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.DescribeStreamSummary, request, options);

    /// <summary>ListShards.</summary>
    public AsyncUnaryCall<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.ListShards, request, options);

    /// <summary>PutRecord.</summary>
    public AsyncUnaryCall<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.PutRecord, request, options);

    /// <summary>PutRecords.</summary>
    public AsyncUnaryCall<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.PutRecords, request, options);

    /// <summary>GetShardIterator.</summary>
    public AsyncUnaryCall<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.GetShardIterator, request, options);

    /// <summary>GetRecords.</summary>
    public AsyncUnaryCall<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.GetRecords, request, options);

    /// <summary>SubscribeToShard: events until the caller cancels or the shard is closed and read to its end.</summary>
    public AsyncServerStreamingCall<SubscribeToShardEvent> SubscribeToShard(SubscribeToShardRequest request, CallOptions options = default) =>
        channel.ServerStreamingCall(StreamsMethods.SubscribeToShard, request, options);

    /// <summary>SplitShard.</summary>
    public AsyncUnaryCall<SplitShardResponse> SplitShardAsync(SplitShardRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.SplitShard, request, options);

    /// <summary>MergeShards.</summary>
    public AsyncUnaryCall<MergeShardsResponse> MergeShardsAsync(MergeShardsRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.MergeShards, request, options);

    /// <summary>UpdateShardCount.</summary>
    public AsyncUnaryCall<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.UpdateShardCount, request, options);

    /// <summary>IncreaseStreamRetentionPeriod.</summary>
    public AsyncUnaryCall<IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriodAsync(IncreaseStreamRetentionPeriodRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.IncreaseStreamRetentionPeriod, request, options);

    /// <summary>DecreaseStreamRetentionPeriod.</summary>
    public AsyncUnaryCall<DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriodAsync(DecreaseStreamRetentionPeriodRequest request, CallOptions options = default) =>
        channel.UnaryCall(StreamsMethods.DecreaseStreamRetentionPeriod, request, options);

    /// <summary>Produce: write batches, read one response per batch.</summary>
    public AsyncDuplexStreamingCall<ProduceRequest, ProduceResponse> Produce(CallOptions options = default) =>
        channel.DuplexStreamingCall(StreamsMethods.Produce, options);
}
