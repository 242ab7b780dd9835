using System.Collections.Concurrent;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Cli.Tests;

/// <summary>A Firehose service that records every request and answers from handlers a test sets.</summary>
public sealed class FakeFirehoseService : FirehoseServiceBase
{
    private readonly ConcurrentQueue<IMessage> _requests = new();
    private readonly ConcurrentDictionary<Type, Delegate> _handlers = new();

    public IReadOnlyList<T> Requests<T>() => [.. _requests.OfType<T>()];

    /// <summary>Answers requests of type <typeparamref name="TRequest"/> with <paramref name="handler"/>.</summary>
    public FakeFirehoseService On<TRequest, TResponse>(Func<TRequest, TResponse> handler)
    {
        _handlers[typeof(TRequest)] = handler;
        return this;
    }

    public override Task<CreateDeliveryStreamResponse> CreateDeliveryStream(CreateDeliveryStreamRequest request, ServerCallContext context) =>
        Answer<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>(request, context);

    public override Task<DescribeDeliveryStreamResponse> DescribeDeliveryStream(DescribeDeliveryStreamRequest request, ServerCallContext context) =>
        Answer<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>(request, context);

    public override Task<ListDeliveryStreamsResponse> ListDeliveryStreams(ListDeliveryStreamsRequest request, ServerCallContext context) =>
        Answer<ListDeliveryStreamsRequest, ListDeliveryStreamsResponse>(request, context);

    public override Task<UpdateDestinationResponse> UpdateDestination(UpdateDestinationRequest request, ServerCallContext context) =>
        Answer<UpdateDestinationRequest, UpdateDestinationResponse>(request, context);

    public override Task<DeleteDeliveryStreamResponse> DeleteDeliveryStream(DeleteDeliveryStreamRequest request, ServerCallContext context) =>
        Answer<DeleteDeliveryStreamRequest, DeleteDeliveryStreamResponse>(request, context);

    private Task<TResponse> Answer<TRequest, TResponse>(TRequest request, ServerCallContext context)
        where TRequest : IMessage
    {
        _requests.Enqueue(request);
        return _handlers.TryGetValue(typeof(TRequest), out var handler)
            ? Task.FromResult(((Func<TRequest, TResponse>)handler)(request))
            : throw RpcServices.Unimplemented(context);
    }
}
