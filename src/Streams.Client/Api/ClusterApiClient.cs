using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The raw client of <c>streams.v1.Cluster</c>: one call per operation, no retries.</summary>
public sealed class ClusterApiClient(RpcChannel channel)
{
    /// <summary>DescribeCluster.</summary>
    public AsyncUnaryCall<DescribeClusterResponse> DescribeClusterAsync(DescribeClusterRequest request, CallOptions options = default) =>
        channel.UnaryCall(ClusterMethods.DescribeCluster, request, options);

    /// <summary>AddNode.</summary>
    public AsyncUnaryCall<AddNodeResponse> AddNodeAsync(AddNodeRequest request, CallOptions options = default) =>
        channel.UnaryCall(ClusterMethods.AddNode, request, options);

    /// <summary>RemoveNode.</summary>
    public AsyncUnaryCall<RemoveNodeResponse> RemoveNodeAsync(RemoveNodeRequest request, CallOptions options = default) =>
        channel.UnaryCall(ClusterMethods.RemoveNode, request, options);

    /// <summary>TransferLeadership.</summary>
    public AsyncUnaryCall<TransferLeadershipResponse> TransferLeadershipAsync(TransferLeadershipRequest request, CallOptions options = default) =>
        channel.UnaryCall(ClusterMethods.TransferLeadership, request, options);
}
