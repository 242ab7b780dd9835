using Streams.V1;

namespace Streams.Server.Metadata;

/// <summary>A member of the cluster.</summary>
/// <param name="NodeId">The node's name, such as <c>node-1</c>.</param>
/// <param name="Address">Its gRPC address, such as <c>http://10.0.0.1:7400</c>.</param>
/// <param name="Role">Voter, learner (catching up the controller log) or leaving (replicas moving away).</param>
/// <param name="RaftId">Its id in every Raft group: non-zero, unique among the members, normally derived from its name.</param>
public sealed record NodeRecord(string NodeId, string Address, MemberRole Role, long RaftId)
{
    /// <summary>True when the node takes new shard replicas: a voter that is not leaving.</summary>
    public bool TakesReplicas => Role == MemberRole.Voter;
}
