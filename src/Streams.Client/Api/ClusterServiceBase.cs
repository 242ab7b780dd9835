using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The server side of <c>streams.v1.Cluster</c>; methods not overridden answer UNIMPLEMENTED.</summary>
public abstract class ClusterServiceBase : IRpcService
{
    /// <summary>DescribeCluster.</summary>
    public virtual Task<DescribeClusterResponse> DescribeCluster(DescribeClusterRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>AddNode.</summary>
    public virtual Task<AddNodeResponse> AddNode(AddNodeRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>RemoveNode.</summary>
    public virtual Task<RemoveNodeResponse> RemoveNode(RemoveNodeRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>TransferLeadership.</summary>
    public virtual Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <inheritdoc />
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(ClusterMethods.DescribeCluster, DescribeCluster);
        binder.AddUnary(ClusterMethods.AddNode, AddNode);
        binder.AddUnary(ClusterMethods.RemoveNode, RemoveNode);
        binder.AddUnary(ClusterMethods.TransferLeadership, TransferLeadership);
    }
}
