using System.Collections.Concurrent;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Cli.Tests;

/// <summary>A Consumers service that records every request and answers with canned responses.</summary>
public sealed class FakeConsumersService : ConsumersServiceBase
{
    private readonly ConcurrentQueue<IMessage> _requests = new();

    public GetCheckpointsResponse Checkpoints { get; set; } = new();

    public IReadOnlyList<T> Requests<T>() => [.. _requests.OfType<T>()];

    public override Task<GetCheckpointsResponse> GetCheckpoints(GetCheckpointsRequest request, ServerCallContext context) => Record(request, Checkpoints);

    public override Task<DeleteGroupResponse> DeleteGroup(DeleteGroupRequest request, ServerCallContext context) => Record(request, new DeleteGroupResponse());

    private Task<TResponse> Record<TResponse>(IMessage request, TResponse response)
    {
        _requests.Enqueue(request);
        return Task.FromResult(response);
    }
}
