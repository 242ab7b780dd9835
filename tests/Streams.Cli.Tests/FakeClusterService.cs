using System.Collections.Concurrent;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Cli.Tests;

/// <summary>A Cluster service that records every request and answers with canned responses.</summary>
public sealed class FakeClusterService : ClusterServiceBase
{
    private readonly ConcurrentQueue<IMessage> _requests = new();

    public DescribeClusterResponse Cluster { get; set; } = new();

    public IReadOnlyList<T> Requests<T>() => [.. _requests.OfType<T>()];

    public override Task<DescribeClusterResponse> DescribeCluster(DescribeClusterRequest request, ServerCallContext context) => Record(request, Cluster);

    public override Task<AddNodeResponse> AddNode(AddNodeRequest request, ServerCallContext context) => Record(request, new AddNodeResponse());

    public override Task<RemoveNodeResponse> RemoveNode(RemoveNodeRequest request, ServerCallContext context) => Record(request, new RemoveNodeResponse());

    public override Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context) => Record(request, new TransferLeadershipResponse());

    private Task<TResponse> Record<TResponse>(IMessage request, TResponse response)
    {
        _requests.Enqueue(request);
        return Task.FromResult(response);
    }
}
