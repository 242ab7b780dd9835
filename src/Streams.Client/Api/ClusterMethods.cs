using Streams.Rpc;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The methods of <c>streams.v1.Cluster</c>, the control plane.</summary>
public static class ClusterMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.v1.Cluster";

    /// <summary>DescribeCluster.</summary>
    public static readonly Method<DescribeClusterRequest, DescribeClusterResponse> DescribeCluster =
        Method.Protobuf<DescribeClusterRequest, DescribeClusterResponse>(MethodType.Unary, ServiceName, "DescribeCluster");

    /// <summary>AddNode.</summary>
    public static readonly Method<AddNodeRequest, AddNodeResponse> AddNode =
        Method.Protobuf<AddNodeRequest, AddNodeResponse>(MethodType.Unary, ServiceName, "AddNode");

    /// <summary>RemoveNode.</summary>
    public static readonly Method<RemoveNodeRequest, RemoveNodeResponse> RemoveNode =
        Method.Protobuf<RemoveNodeRequest, RemoveNodeResponse>(MethodType.Unary, ServiceName, "RemoveNode");

    /// <summary>TransferLeadership.</summary>
    public static readonly Method<TransferLeadershipRequest, TransferLeadershipResponse> TransferLeadership =
        Method.Protobuf<TransferLeadershipRequest, TransferLeadershipResponse>(MethodType.Unary, ServiceName, "TransferLeadership");
}
