using System.Collections.Concurrent;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Cli.Tests;

/// <summary>A Streams service that records every request and answers from handlers a test sets.</summary>
public sealed class FakeStreamsService : StreamsServiceBase
{
    private readonly ConcurrentQueue<IMessage> _requests = new();
    private readonly ConcurrentDictionary<Type, Delegate> _handlers = new();

    /// <summary>Answers SubscribeToShard; the default ends the call at once.</summary>
    public Func<SubscribeToShardRequest, IServerStreamWriter<SubscribeToShardEvent>, ServerCallContext, Task>? OnSubscribe { get; set; }

    public IReadOnlyList<T> Requests<T>() => [.. _requests.OfType<T>()];

    /// <summary>Answers requests of type <typeparamref name="TRequest"/> with <paramref name="handler"/>.</summary>
    public FakeStreamsService On<TRequest, TResponse>(Func<TRequest, TResponse> handler)
    {
        _handlers[typeof(TRequest)] = handler;
        return this;
    }

    /// <summary>A refusal the way a node sends it: a status and the error name in the trailer.</summary>
    public static RpcException Error(StatusCode code, string name, string message) =>
        new(code, message, new Metadata().Add(StreamsErrors.TrailerName, name));

    public override Task<CreateStreamResponse> CreateStream(CreateStreamRequest request, ServerCallContext context) => Answer<CreateStreamRequest, CreateStreamResponse>(request, context);

    public override Task<DeleteStreamResponse> DeleteStream(DeleteStreamRequest request, ServerCallContext context) => Answer<DeleteStreamRequest, DeleteStreamResponse>(request, context);

    public override Task<ListStreamsResponse> ListStreams(ListStreamsRequest request, ServerCallContext context) => Answer<ListStreamsRequest, ListStreamsResponse>(request, context);

    public override Task<DescribeStreamSummaryResponse> DescribeStreamSummary(DescribeStreamSummaryRequest request, ServerCallContext context) => Answer<DescribeStreamSummaryRequest, DescribeStreamSummaryResponse>(request, context);

    public override Task<ListShardsResponse> ListShards(ListShardsRequest request, ServerCallContext context) => Answer<ListShardsRequest, ListShardsResponse>(request, context);

    public override Task<PutRecordsResponse> PutRecords(PutRecordsRequest request, ServerCallContext context) => Answer<PutRecordsRequest, PutRecordsResponse>(request, context);

    public override Task<GetShardIteratorResponse> GetShardIterator(GetShardIteratorRequest request, ServerCallContext context) => Answer<GetShardIteratorRequest, GetShardIteratorResponse>(request, context);

    public override Task<GetRecordsResponse> GetRecords(GetRecordsRequest request, ServerCallContext context) => Answer<GetRecordsRequest, GetRecordsResponse>(request, context);

    public override Task<SplitShardResponse> SplitShard(SplitShardRequest request, ServerCallContext context) => Answer<SplitShardRequest, SplitShardResponse>(request, context);

    public override Task<MergeShardsResponse> MergeShards(MergeShardsRequest request, ServerCallContext context) => Answer<MergeShardsRequest, MergeShardsResponse>(request, context);

    public override Task<UpdateShardCountResponse> UpdateShardCount(UpdateShardCountRequest request, ServerCallContext context) => Answer<UpdateShardCountRequest, UpdateShardCountResponse>(request, context);

    public override Task<IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod(IncreaseStreamRetentionPeriodRequest request, ServerCallContext context) =>
        Answer<IncreaseStreamRetentionPeriodRequest, IncreaseStreamRetentionPeriodResponse>(request, context);

    public override Task<DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod(DecreaseStreamRetentionPeriodRequest request, ServerCallContext context) =>
        Answer<DecreaseStreamRetentionPeriodRequest, DecreaseStreamRetentionPeriodResponse>(request, context);

    public override Task SubscribeToShard(SubscribeToShardRequest request, IServerStreamWriter<SubscribeToShardEvent> events, ServerCallContext context)
    {
        _requests.Enqueue(request);
        return OnSubscribe?.Invoke(request, events, context) ?? Task.CompletedTask;
    }

    private Task<TResponse> Answer<TRequest, TResponse>(TRequest request, ServerCallContext context)
        where TRequest : IMessage
    {
        _requests.Enqueue(request);
        return _handlers.TryGetValue(typeof(TRequest), out var handler)
            ? Task.FromResult(((Func<TRequest, TResponse>)handler)(request))
            : throw RpcServices.Unimplemented(context);
    }
}
