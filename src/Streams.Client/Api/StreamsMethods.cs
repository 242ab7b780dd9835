using Streams.Rpc;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The methods of <c>streams.v1.Streams</c>, the data plane.</summary>
public static class StreamsMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.v1.Streams";

    /// <summary>CreateStream.</summary>
    public static readonly Method<CreateStreamRequest, CreateStreamResponse> CreateStream = Unary<CreateStreamRequest, CreateStreamResponse>("CreateStream");

    /// <summary>DeleteStream.</summary>
    public static readonly Method<DeleteStreamRequest, DeleteStreamResponse> DeleteStream = Unary<DeleteStreamRequest, DeleteStreamResponse>("DeleteStream");

    /// <summary>ListStreams.</summary>
    public static readonly Method<ListStreamsRequest, ListStreamsResponse> ListStreams = Unary<ListStreamsRequest, ListStreamsResponse>("ListStreams");

    /// <summary>DescribeStreamSummary.</summary>
    public static readonly Method<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse> DescribeStreamSummary = Unary<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>("DescribeStreamSummary");

    /// <summary>ListShards.</summary>
    public static readonly Method<ListShardsRequest, ListShardsResponse> ListShards = Unary<ListShardsRequest, ListShardsResponse>("ListShards");

    /// <summary>PutRecord.</summary>
    public static readonly Method<PutRecordRequest, PutRecordResponse> PutRecord = Unary<PutRecordRequest, PutRecordResponse>("PutRecord");

    /// <summary>PutRecords.</summary>
    public static readonly Method<PutRecordsRequest, PutRecordsResponse> PutRecords = Unary<PutRecordsRequest, PutRecordsResponse>("PutRecords");

    /// <summary>GetShardIterator.</summary>
    public static readonly Method<GetShardIteratorRequest, GetShardIteratorResponse> GetShardIterator = Unary<GetShardIteratorRequest, GetShardIteratorResponse>("GetShardIterator");

    /// <summary>GetRecords.</summary>
    public static readonly Method<GetRecordsRequest, GetRecordsResponse> GetRecords = Unary<GetRecordsRequest, GetRecordsResponse>("GetRecords");

    /// <summary>SubscribeToShard (server streaming).</summary>
    public static readonly Method<SubscribeToShardRequest, SubscribeToShardEvent> SubscribeToShard =
        Method.Protobuf<SubscribeToShardRequest, SubscribeToShardEvent>(MethodType.ServerStreaming, ServiceName, "SubscribeToShard");

    /// <summary>SplitShard.</summary>
    public static readonly Method<SplitShardRequest, SplitShardResponse> SplitShard = Unary<SplitShardRequest, SplitShardResponse>("SplitShard");

    /// <summary>MergeShards.</summary>
    public static readonly Method<MergeShardsRequest, MergeShardsResponse> MergeShards = Unary<MergeShardsRequest, MergeShardsResponse>("MergeShards");

    /// <summary>UpdateShardCount.</summary>
    public static readonly Method<UpdateShardCountRequest, UpdateShardCountResponse> UpdateShardCount = Unary<UpdateShardCountRequest, UpdateShardCountResponse>("UpdateShardCount");

    /// <summary>IncreaseStreamRetentionPeriod.</summary>
    public static readonly Method<IncreaseStreamRetentionPeriodRequest, IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod =
        Unary<IncreaseStreamRetentionPeriodRequest, IncreaseStreamRetentionPeriodResponse>("IncreaseStreamRetentionPeriod");

    /// <summary>DecreaseStreamRetentionPeriod.</summary>
    public static readonly Method<DecreaseStreamRetentionPeriodRequest, DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod =
        Unary<DecreaseStreamRetentionPeriodRequest, DecreaseStreamRetentionPeriodResponse>("DecreaseStreamRetentionPeriod");

    /// <summary>Produce (bidirectional streaming).</summary>
    public static readonly Method<ProduceRequest, ProduceResponse> Produce =
        Method.Protobuf<ProduceRequest, ProduceResponse>(MethodType.DuplexStreaming, ServiceName, "Produce");

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name)
        where TRequest : Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : Google.Protobuf.IMessage<TResponse>, new() =>
        Method.Protobuf<TRequest, TResponse>(MethodType.Unary, ServiceName, name);
}
