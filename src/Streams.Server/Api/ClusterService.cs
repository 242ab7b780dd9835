using Streams.Client.Api;
using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Rpc.Server;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Serves <c>streams.v1.Cluster</c>: the members and Raft groups as this node sees them, and
/// membership and leadership changes (carried out by the controller's leader and the groups'
/// leaders, see <see cref="ClusterReconciler"/>).
/// </summary>
internal sealed class ClusterService(StreamsCluster cluster) : ClusterServiceBase
{
    private const string ControllerGroupName = "controller";

    /// <inheritdoc/>
    public override Task<DescribeClusterResponse> DescribeCluster(DescribeClusterRequest request, ServerCallContext context)
    {
        var metadata = cluster.Metadata;
        var controller = cluster.Controller;
        var controllerLeader = controller is null ? null : cluster.Directory.NameOf(controller.LeaderRaftId);
        var response = new DescribeClusterResponse { RespondingNode = cluster.NodeId, ControllerLeader = controllerLeader ?? "" };
        var counts = metadata.ShardCountsByNode();
        foreach (var node in metadata.Nodes.Values)
        {
            counts.TryGetValue(node.NodeId, out var count);
            response.Members.Add(new Member
            {
                NodeId = node.NodeId,
                Address = node.Address,
                Role = node.Role,
                IsControllerLeader = node.NodeId == controllerLeader,
                ReplicaCount = count.Replicas,
                LeaderCount = count.Leaders,
            });
        }

        if (controller is not null)
        {
            var status = controller.Group.Status;
            response.Groups.Add(Describe(ClusterMetadata.ControllerGroupId, ControllerGroupName, status));
        }

        foreach (var stream in metadata.Streams.Values)
        {
            foreach (var shard in stream.Shards)
            {
                var name = $"{stream.Name}/{shard.ShardId}";
                if (cluster.Shards?.Find(shard.GroupId) is { } replica)
                {
                    response.Groups.Add(Describe(shard.GroupId, name, replica.Group.Status));
                }
                else
                {
                    var info = new RaftGroupInfo { GroupId = (ulong)shard.GroupId, Name = name, Leader = shard.Leader ?? "", Term = (ulong)shard.LeaderTerm };
                    info.Voters.AddRange(shard.Replicas);
                    response.Groups.Add(info);
                }
            }
        }

        return Task.FromResult(response);
    }

    /// <inheritdoc/>
    public override async Task<AddNodeResponse> AddNode(AddNodeRequest request, ServerCallContext context)
    {
        if (NodeIds.Validate(request.NodeId, "node_id") is { } problem)
        {
            throw StreamsApiException.InvalidArgument(problem).ToRpcException();
        }

        if (!Uri.TryCreate(request.Address, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw StreamsApiException.InvalidArgument($"address is '{request.Address}'; give the node's gRPC address, such as http://10.0.0.4:7400.").ToRpcException();
        }

        await ProposeAsync(new ControllerCommand { AddNode = new AddNodeCommand { NodeId = request.NodeId, Address = request.Address, RaftId = RaftNodeIds.Of(request.NodeId) } }, context).ConfigureAwait(false);
        return new AddNodeResponse();
    }

    /// <inheritdoc/>
    public override async Task<RemoveNodeResponse> RemoveNode(RemoveNodeRequest request, ServerCallContext context)
    {
        if (NodeIds.Validate(request.NodeId, "node_id") is { } problem)
        {
            throw StreamsApiException.InvalidArgument(problem).ToRpcException();
        }

        await ProposeAsync(new ControllerCommand { RemoveNode = new RemoveNodeCommand { NodeId = request.NodeId } }, context).ConfigureAwait(false);
        return new RemoveNodeResponse();
    }

    /// <inheritdoc/>
    public override async Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context)
    {
        var metadata = cluster.Metadata;
        if (!metadata.Nodes.TryGetValue(request.TargetNodeId, out var target))
        {
            throw StreamsApiException.NotFound($"target_node_id '{request.TargetNodeId}' is not a member; DescribeCluster lists the members.").ToRpcException();
        }

        var group = FindGroup(request.Group, metadata);
        try
        {
            if (group.Status.IsLeader)
            {
                await group.TransferLeadershipAsync(target.RaftId, context.CancellationToken).ConfigureAwait(false);
                return new TransferLeadershipResponse();
            }
        }
        catch (LeadershipTransferFailedException ex)
        {
            throw new StreamsApiException(StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, $"The transfer to {request.TargetNodeId} failed: {ex.Message}").ToRpcException();
        }
        catch (NotLeaderException)
        {
        }

        var leader = cluster.Directory.AddressOf(group.Status.Leader);
        if (RequestHeaders.IsForwarded(context) || leader is null)
        {
            throw StreamsApiException.Unavailable($"This node does not lead group '{request.Group}' and knows no leader to ask; retry.").ToRpcException();
        }

        using var call = cluster.Peers.Get(leader).UnaryCall(ClusterMethods.TransferLeadership, request, new CallOptions { Headers = RequestHeaders.ForwardedHeaders(), CancellationToken = context.CancellationToken });
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    private RaftGroup FindGroup(string name, ClusterMetadata metadata)
    {
        if (name == ControllerGroupName)
        {
            return cluster.Controller?.Group ?? throw StreamsApiException.Unavailable("This node is starting; retry.").ToRpcException();
        }

        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !metadata.TryGetStream(name[..slash], out var stream) || !stream.TryGetShard(name[(slash + 1)..], out var shard))
        {
            throw StreamsApiException.NotFound($"group '{name}' is not 'controller' or '<stream>/<shard id>' of an existing shard; DescribeCluster lists the groups.").ToRpcException();
        }

        return cluster.Shards?.Find(shard.GroupId)?.Group
            ?? throw StreamsApiException.Unavailable($"This node holds no replica of {name}; ask one of {string.Join(", ", shard.Replicas)}.").ToRpcException();
    }

    private async Task ProposeAsync(ControllerCommand command, ServerCallContext context)
    {
        try
        {
            await cluster.Proposer.ProposeAsync(command, context.CancellationToken).ConfigureAwait(false);
        }
        catch (StreamsApiException ex)
        {
            throw ex.ToRpcException();
        }
    }

    private RaftGroupInfo Describe(long groupId, string name, RaftGroupStatus status)
    {
        var info = new RaftGroupInfo
        {
            GroupId = (ulong)groupId,
            Name = name,
            Leader = cluster.Directory.NameOf(status.Leader) ?? "",
            Term = (ulong)status.Term,
            CommitIndex = (ulong)status.CommitIndex,
        };
        info.Voters.AddRange(status.ConfState.Voters.Select(v => cluster.Directory.NameOf(v) ?? v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        info.Learners.AddRange(status.ConfState.Learners.Select(v => cluster.Directory.NameOf(v) ?? v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return info;
    }
}
