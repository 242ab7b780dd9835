using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Metadata;

// Membership: bootstrap, limits, nodes joining and leaving, replica moves.
public sealed partial class ControllerState
{
    private static (ClusterMetadata, ApplyResult) Bootstrap(ClusterMetadata metadata, BootstrapCommand command)
    {
        if (metadata.IsBootstrapped)
        {
            return Refuse(metadata, MetadataError.InUse("The cluster is already bootstrapped; grow it with AddNode."));
        }

        if (command.Nodes.Count == 0)
        {
            return Refuse(metadata, MetadataError.InvalidArgument("Bootstrap names no node; list at least the proposing node."));
        }

        if (command.IteratorSecret.Length != ClusterMetadata.IteratorSecretLength)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"iterator_secret must be {ClusterMetadata.IteratorSecretLength} random bytes; it has {command.IteratorSecret.Length}."));
        }

        var limits = command.Limits is null ? MetadataLimits.Default : MetadataLimits.FromSpec(command.Limits);
        if (limits.Validate() is { Count: > 0 } problems)
        {
            return Refuse(metadata, MetadataError.InvalidArgument("Bootstrap limits are inconsistent: " + string.Join(" ", problems)));
        }

        var nodes = metadata.Nodes.ToBuilder();
        var raftIds = new HashSet<long>();
        foreach (var spec in command.Nodes)
        {
            if (ValidateNode(spec.NodeId, spec.Address) is { } problem)
            {
                return Refuse(metadata, problem);
            }

            if (spec.RaftId <= 0 || !raftIds.Add(spec.RaftId))
            {
                return Refuse(metadata, MetadataError.InvalidArgument($"Node '{spec.NodeId}' has raft_id {spec.RaftId}; give every node a different positive raft_id."));
            }

            if (!nodes.TryAdd(spec.NodeId, new NodeRecord(spec.NodeId, spec.Address, MemberRole.Voter, spec.RaftId)))
            {
                return Refuse(metadata, MetadataError.InvalidArgument($"Bootstrap names node '{spec.NodeId}' twice; list each node once."));
            }
        }

        return (metadata with
        {
            IsBootstrapped = true,
            BootstrappedAt = ToTime(command.TimestampUnixMs),
            IteratorSecret = [.. command.IteratorSecret.Span],
            Limits = limits,
            Nodes = nodes.ToImmutable(),
            NextNodeRaftId = raftIds.Max() + 1,
        }, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) UpdateLimits(ClusterMetadata metadata, UpdateLimitsCommand command)
    {
        if (command.Limits is null)
        {
            return Refuse(metadata, MetadataError.InvalidArgument("UpdateLimits needs limits."));
        }

        var limits = MetadataLimits.FromSpec(command.Limits);
        if (limits.Validate() is { Count: > 0 } problems)
        {
            return Refuse(metadata, MetadataError.InvalidArgument("The limits are inconsistent: " + string.Join(" ", problems)));
        }

        return limits == metadata.Limits ? Unchanged(metadata) : (metadata with { Limits = limits }, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) AddNode(ClusterMetadata metadata, AddNodeCommand command)
    {
        if (ValidateNode(command.NodeId, command.Address) is { } problem)
        {
            return Refuse(metadata, problem);
        }

        if (metadata.Nodes.TryGetValue(command.NodeId, out var existing))
        {
            return Refuse(metadata, MetadataError.InUse($"Node '{command.NodeId}' is already a member ({existing.Role.ToString().ToUpperInvariant()}, {existing.Address}); remove it before adding it again, or choose another node id."));
        }

        // A node's Raft id is normally derived from its name (the Cluster API and the bootstrap
        // send it), so it cannot follow a counter: what must not happen is two members sharing one.
        var raftId = command.RaftId == 0 ? metadata.NextNodeRaftId : command.RaftId;
        if (raftId < 0)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"raft_id {command.RaftId} is negative; use 0 to let the controller choose, or a positive id."));
        }

        if (metadata.Nodes.Values.FirstOrDefault(n => n.RaftId == raftId) is { } holder)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"raft_id {raftId} is node '{holder.NodeId}''s and a Raft id is never reused for another node; use 0 to let the controller choose, or another id (at least {metadata.NextNodeRaftId} is free)."));
        }

        var node = new NodeRecord(command.NodeId, command.Address, MemberRole.Learner, raftId);
        return (metadata with
        {
            Nodes = metadata.Nodes.Add(node.NodeId, node),
            NextNodeRaftId = Math.Max(metadata.NextNodeRaftId, raftId + 1),
        }, ApplyResult.Done with { RaftId = raftId });
    }

    private static (ClusterMetadata, ApplyResult) PromoteNode(ClusterMetadata metadata, PromoteNodeCommand command)
    {
        if (!metadata.Nodes.TryGetValue(command.NodeId, out var node))
        {
            return Refuse(metadata, MetadataError.NotFound($"Node '{command.NodeId}' is not a member; DescribeCluster lists the members."));
        }

        return node.Role switch
        {
            MemberRole.Learner => (metadata with { Nodes = metadata.Nodes.SetItem(node.NodeId, node with { Role = MemberRole.Voter }) }, ApplyResult.Done),
            MemberRole.Leaving => Refuse(metadata, MetadataError.InUse($"Node '{node.NodeId}' is leaving the cluster and cannot become a voter; add it again once it is gone.")),
            _ => Unchanged(metadata),
        };
    }

    private static (ClusterMetadata, ApplyResult) RemoveNode(ClusterMetadata metadata, RemoveNodeCommand command)
    {
        if (!metadata.Nodes.TryGetValue(command.NodeId, out var node))
        {
            return Refuse(metadata, MetadataError.NotFound($"Node '{command.NodeId}' is not a member; DescribeCluster lists the members."));
        }

        if (node.Role == MemberRole.Leaving)
        {
            return Unchanged(metadata);
        }

        var remaining = metadata.ReplicaNodes.Count(n => n.NodeId != node.NodeId);
        if (remaining == 0)
        {
            return Refuse(metadata, MetadataError.InUse($"Node '{node.NodeId}' is the last node that holds replicas; add another node before removing it."));
        }

        // Its replicas must have somewhere to go: every shard keeps its replication factor.
        var widest = metadata.Streams.Values
            .Where(s => s.Status != StreamStatus.Deleting)
            .OrderByDescending(s => s.ReplicationFactor)
            .FirstOrDefault();
        if (widest is not null && widest.ReplicationFactor > remaining)
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{widest.Name}' keeps {widest.ReplicationFactor} replicas per shard and only {remaining} nodes would remain to hold them; add a node before removing '{node.NodeId}'."));
        }

        return (metadata with { Nodes = metadata.Nodes.SetItem(node.NodeId, node with { Role = MemberRole.Leaving }) }, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) NodeRemoved(ClusterMetadata metadata, NodeRemovedCommand command)
    {
        if (!metadata.Nodes.TryGetValue(command.NodeId, out var node))
        {
            return Unchanged(metadata);
        }

        if (node.Role != MemberRole.Leaving)
        {
            return Refuse(metadata, MetadataError.InUse($"Node '{node.NodeId}' is a {node.Role.ToString().ToUpperInvariant()}; RemoveNode marks it leaving first."));
        }

        var held = metadata.ReplicaCountOf(node.NodeId);
        if (held > 0 || metadata.PendingMove?.ToNode == node.NodeId)
        {
            return Refuse(metadata, MetadataError.InUse($"Node '{node.NodeId}' still holds {held} shard replicas (or is receiving one); wait until they have moved away."));
        }

        return (metadata with { Nodes = metadata.Nodes.Remove(node.NodeId) }, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) ReplicaMoveStep(ClusterMetadata metadata, ReplicaMoveStepCommand command)
    {
        var move = new ReplicaMove(command.GroupId, command.FromNode, command.ToNode);
        switch (command.Step)
        {
            case V1.ReplicaMoveStep.Start:
                return StartMove(metadata, move);
            case V1.ReplicaMoveStep.Finish:
                if (metadata.PendingMove != move)
                {
                    // A repeated FINISH (or one for a shard deleted meanwhile) finds the move done.
                    return metadata.TryGetShard(move.GroupId, out _, out var done) && done.Replicas.Contains(move.ToNode) && !done.Replicas.Contains(move.FromNode)
                        ? Unchanged(metadata)
                        : Refuse(metadata, MetadataError.InvalidArgument($"No replica move of group {move.GroupId} from '{move.FromNode}' to '{move.ToNode}' is under way; start it first."));
                }

                if (!metadata.TryGetShard(move.GroupId, out var stream, out var shard))
                {
                    return (metadata with { PendingMove = null }, ApplyResult.Done);
                }

                var replicas = shard.Replicas.Replace(move.FromNode, move.ToNode, StringComparer.Ordinal);
                var moved = stream with { Shards = stream.Shards.SetItem(shard.ShardNumber, shard with { Replicas = replicas }) };
                return (WithStream(metadata, moved) with { PendingMove = null }, ApplyResult.Done);
            case V1.ReplicaMoveStep.Abandon:
                return metadata.PendingMove == move ? (metadata with { PendingMove = null }, ApplyResult.Done) : Unchanged(metadata);
            default:
                return Refuse(metadata, MetadataError.InvalidArgument("ReplicaMoveStep needs a step: START, FINISH or ABANDON."));
        }
    }

    private static (ClusterMetadata, ApplyResult) StartMove(ClusterMetadata metadata, ReplicaMove move)
    {
        if (metadata.PendingMove is { } pending)
        {
            return pending == move
                ? Unchanged(metadata)
                : Refuse(metadata, MetadataError.InUse($"Another replica move is under way (group {pending.GroupId} from '{pending.FromNode}' to '{pending.ToNode}'); finish or abandon it first: one move at a time."));
        }

        if (!metadata.TryGetShard(move.GroupId, out var stream, out var shard))
        {
            return Refuse(metadata, MetadataError.NotFound($"No shard has Raft group {move.GroupId}; plan the move again."));
        }

        if (stream.Status == StreamStatus.Deleting)
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{stream.Name}' is being deleted; its replicas are not moved."));
        }

        if (!shard.Replicas.Contains(move.FromNode))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Node '{move.FromNode}' holds no replica of {stream.Name}/{shard.ShardId} (group {move.GroupId}); its replicas are {string.Join(", ", shard.Replicas)}."));
        }

        if (shard.Replicas.Contains(move.ToNode))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Node '{move.ToNode}' already holds a replica of {stream.Name}/{shard.ShardId} (group {move.GroupId}); move it to a node without one."));
        }

        if (!metadata.Nodes.TryGetValue(move.ToNode, out var target) || !target.TakesReplicas)
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"Node '{move.ToNode}' does not take replicas (it is not a voter, or is leaving); move to a voter."));
        }

        return (metadata with { PendingMove = move }, ApplyResult.Done);
    }

    private static MetadataError? ValidateNode(string nodeId, string address)
    {
        if (NodeIds.Validate(nodeId, "node_id") is { } problem)
        {
            return MetadataError.InvalidArgument(problem);
        }

        return Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? null
            : MetadataError.InvalidArgument($"Node '{nodeId}' has address '{address}'; give its gRPC address, such as http://10.0.0.1:7400.");
    }
}
