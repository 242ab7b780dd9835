using Streams.Rpc;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The server side of <c>streams.v1.Streams</c>; methods not overridden answer UNIMPLEMENTED.</summary>
public abstract class StreamsServiceBase : IRpcService
{
    /// <summary>CreateStream.</summary>
    public virtual Task<CreateStreamResponse> CreateStream(CreateStreamRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DeleteStream.</summary>
    public virtual Task<DeleteStreamResponse> DeleteStream(DeleteStreamRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>ListStreams.</summary>
    public virtual Task<ListStreamsResponse> ListStreams(ListStreamsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DescribeStreamSummary.</summary>
    public virtual Task<DescribeStreamSummaryResponse> DescribeStreamSummary(DescribeStreamSummaryRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>ListShards.</summary>
    public virtual Task<ListShardsResponse> ListShards(ListShardsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>PutRecord.</summary>
    public virtual Task<PutRecordResponse> PutRecord(PutRecordRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>PutRecords.</summary>
    public virtual Task<PutRecordsResponse> PutRecords(PutRecordsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>GetShardIterator.</summary>
    public virtual Task<GetShardIteratorResponse> GetShardIterator(GetShardIteratorRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>GetRecords.</summary>
    public virtual Task<GetRecordsResponse> GetRecords(GetRecordsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>SubscribeToShard.</summary>
    public virtual Task SubscribeToShard(SubscribeToShardRequest request, IServerStreamWriter<SubscribeToShardEvent> events, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>SplitShard.</summary>
    public virtual Task<SplitShardResponse> SplitShard(SplitShardRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>MergeShards.</summary>
    public virtual Task<MergeShardsResponse> MergeShards(MergeShardsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>UpdateShardCount.</summary>
    public virtual Task<UpdateShardCountResponse> UpdateShardCount(UpdateShardCountRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>IncreaseStreamRetentionPeriod.</summary>
    public virtual Task<IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod(IncreaseStreamRetentionPeriodRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DecreaseStreamRetentionPeriod.</summary>
    public virtual Task<DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod(DecreaseStreamRetentionPeriodRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>Produce.</summary>
    public virtual Task Produce(IAsyncStreamReader<ProduceRequest> requests, IServerStreamWriter<ProduceResponse> responses, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <inheritdoc />
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(StreamsMethods.CreateStream, CreateStream);
        binder.AddUnary(StreamsMethods.DeleteStream, DeleteStream);
        binder.AddUnary(StreamsMethods.ListStreams, ListStreams);
        binder.AddUnary(StreamsMethods.DescribeStreamSummary, DescribeStreamSummary);
        binder.AddUnary(StreamsMethods.ListShards, ListShards);
        binder.AddUnary(StreamsMethods.PutRecord, PutRecord);
        binder.AddUnary(StreamsMethods.PutRecords, PutRecords);
        binder.AddUnary(StreamsMethods.GetShardIterator, GetShardIterator);
        binder.AddUnary(StreamsMethods.GetRecords, GetRecords);
        binder.AddServerStreaming(StreamsMethods.SubscribeToShard, SubscribeToShard);
        binder.AddUnary(StreamsMethods.SplitShard, SplitShard);
        binder.AddUnary(StreamsMethods.MergeShards, MergeShards);
        binder.AddUnary(StreamsMethods.UpdateShardCount, UpdateShardCount);
        binder.AddUnary(StreamsMethods.IncreaseStreamRetentionPeriod, IncreaseStreamRetentionPeriod);
        binder.AddUnary(StreamsMethods.DecreaseStreamRetentionPeriod, DecreaseStreamRetentionPeriod);
        binder.AddDuplexStreaming(StreamsMethods.Produce, Produce);
    }
}
