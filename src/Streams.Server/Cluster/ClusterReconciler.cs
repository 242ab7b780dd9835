using System.Security.Cryptography;
using Streams.Raft.Membership;
using Streams.Raft.Runtime;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.Server.Routing;
using Streams.Server.Shards;
using Streams.V1;

namespace Streams.Server.Cluster;

/// <summary>
/// Keeps this node in step with the controller's metadata, every time it changes and at least
/// every <see cref="Period"/>:
/// <list type="bullet">
/// <item>every node opens the replicas placed on it and closes (and deletes) those moved away or deleted;</item>
/// <item>a shard group's leader reports its leadership, seals a shard the metadata closed, and carries out a replica move of its group (learner, promotion, removal);</item>
/// <item>the controller's leader bootstraps the cluster, starts the next replica move, admits and removes nodes, and finishes stream deletions.</item>
/// </list>
/// Each duty is idempotent: a duty cut short by a crash or a leader change is taken up again.
/// </summary>
internal sealed partial class ClusterReconciler(StreamsCluster cluster, IReadOnlyList<KeyValuePair<string, Uri>> configuredPeers, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan _period = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan _retentionPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan _roundTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan _balanceInterval = TimeSpan.FromSeconds(10);
    private DateTimeOffset _nextRetention = time.GetUtcNow() + _retentionPeriod;

    // When this node last led each group, or handed it to its preferred leader: leadership is
    // moved back to the preferred replica only after it was stable a while, never in a loop.
    private readonly Dictionary<long, (long Term, DateTimeOffset Since)> _leadership = [];
    private readonly Dictionary<long, DateTimeOffset> _reopened = [];
    private HashSet<long>? _storedAtStart;
    private static readonly TimeSpan _reopenInterval = TimeSpan.FromSeconds(10);

    /// <summary>The longest pause between two rounds.</summary>
    public static TimeSpan Period => _period;

    /// <summary>Runs rounds until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var controller = cluster.Controller!;
        while (!cancellationToken.IsCancellationRequested)
        {
            var applied = controller.State.AppliedIndex;
            try
            {
                // A round waits for nothing forever: without a controller leader its proposals
                // would, and every other duty with them.
                using var roundTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                roundTimeout.CancelAfter(_roundTimeout);
                await RoundAsync(roundTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One failed duty must not stop the others; it is retried next round.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RoundFailed(logger, ex);

                // A refused proposal advanced the applied index too: pause rather than spin.
                await Task.Delay(_period, time, cancellationToken).ConfigureAwait(false);
            }

            using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            pause.CancelAfter(_period);
            try
            {
                await controller.State.Applied.WaitAsync(applied + 1, pause.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        var controller = cluster.Controller!;
        var metadata = controller.Current;
        cluster.Directory.Update(metadata);
        if (controller.IsLeader)
        {
            await ControllerDutiesAsync(controller.Group, metadata, cancellationToken).ConfigureAwait(false);
        }

        if (!metadata.IsBootstrapped)
        {
            return;
        }

        await PlaceReplicasAsync(metadata, cancellationToken).ConfigureAwait(false);
        if (time.GetUtcNow() >= _nextRetention)
        {
            _nextRetention = time.GetUtcNow() + _retentionPeriod;
            foreach (var replica in cluster.Shards!.All)
            {
                await replica.ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var replica in cluster.Shards!.All)
        {
            if (replica.Group.Status.IsLeader && metadata.TryGetShard(replica.Identity.GroupId, out var stream, out var shard))
            {
                await ShardLeaderDutiesAsync(replica, stream, shard, metadata, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ControllerDutiesAsync(RaftGroup group, ClusterMetadata metadata, CancellationToken cancellationToken)
    {
        if (!metadata.IsBootstrapped)
        {
            var bootstrap = new BootstrapCommand
            {
                IteratorSecret = Google.Protobuf.ByteString.CopyFrom(RandomNumberGenerator.GetBytes(ClusterMetadata.IteratorSecretLength)),
                TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
                Limits = (MetadataLimits.Default with
                {
                    MaxStreams = cluster.Options.MaxStreams,
                    MaxShardsPerStream = cluster.Options.MaxShardsPerStream,
                    DefaultReplicationFactor = cluster.Options.DefaultReplicationFactor,
                    MaxReplicationFactor = Configuration.ClusterOptions.MaxReplicationFactor,
                }).ToSpec(),
            };
            var peers = configuredPeers.Count > 0 ? configuredPeers : [new(cluster.NodeId, cluster.Address!)];
            foreach (var (nodeId, address) in peers)
            {
                bootstrap.Nodes.Add(new NodeSpec { NodeId = nodeId, Address = address.ToString().TrimEnd('/'), RaftId = RaftNodeIds.Of(nodeId) });
            }

            await cluster.Proposer.ProposeAsync(new ControllerCommand { Bootstrap = bootstrap }, cancellationToken).ConfigureAwait(false);
            return;
        }

        var conf = await group.GetConfStateAsync(cancellationToken).ConfigureAwait(false);
        foreach (var node in metadata.Nodes.Values)
        {
            await AdmitOrRemoveAsync(group, conf, node, metadata, cancellationToken).ConfigureAwait(false);
        }

        foreach (var stream in metadata.Streams.Values.Where(s => s.Status == StreamStatus.Deleting))
        {
            await cluster.Proposer.ProposeAsync(new ControllerCommand { StreamDeleted = new StreamDeletedCommand { StreamId = stream.StreamId } }, cancellationToken).ConfigureAwait(false);
        }

        if (metadata.PendingMove is null && ReplicaPlacement.PlanNextMove(metadata) is { } move)
        {
            MoveStarting(logger, move.GroupId, move.FromNode, move.ToNode);
            await cluster.Proposer.ProposeAsync(MoveStep(move, ReplicaMoveStep.Start), cancellationToken).ConfigureAwait(false);
        }
    }

    // A node added through the Cluster API joins the controller group as a learner, is promoted
    // once it caught up, and a node being removed leaves the group once no replica is left on it.
    private async Task AdmitOrRemoveAsync(RaftGroup group, ConfState conf, NodeRecord node, ClusterMetadata metadata, CancellationToken cancellationToken)
    {
        switch (node.Role)
        {
            case MemberRole.Learner when !conf.IsLearner(node.RaftId) && !conf.Voters.Contains(node.RaftId):
                await group.ProposeConfChangeAsync(ConfChange.AddLearner(node.RaftId), cancellationToken).ConfigureAwait(false);
                break;
            case MemberRole.Learner when conf.IsLearner(node.RaftId):
                try
                {
                    await group.ProposeConfChangeAsync(ConfChange.Promote(node.RaftId), cancellationToken).ConfigureAwait(false);
                }
                catch (MembershipChangeRefusedException)
                {
                    // Not caught up yet: next round.
                    return;
                }

                await cluster.Proposer.ProposeAsync(new ControllerCommand { PromoteNode = new PromoteNodeCommand { NodeId = node.NodeId } }, cancellationToken).ConfigureAwait(false);
                break;
            case MemberRole.Learner:
                await cluster.Proposer.ProposeAsync(new ControllerCommand { PromoteNode = new PromoteNodeCommand { NodeId = node.NodeId } }, cancellationToken).ConfigureAwait(false);
                break;
            case MemberRole.Leaving when metadata.ReplicaCountOf(node.NodeId) == 0:
                if (conf.Voters.Contains(node.RaftId) || conf.IsLearner(node.RaftId))
                {
                    await group.ProposeConfChangeAsync(ConfChange.Remove(node.RaftId), cancellationToken).ConfigureAwait(false);
                }

                await cluster.Proposer.ProposeAsync(new ControllerCommand { NodeRemoved = new NodeRemovedCommand { NodeId = node.NodeId } }, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task PlaceReplicasAsync(ClusterMetadata metadata, CancellationToken cancellationToken)
    {
        var shards = cluster.Shards!;
        var move = metadata.PendingMove;
        var wanted = new HashSet<long>();
        foreach (var stream in metadata.Streams.Values.Where(s => s.Status != StreamStatus.Deleting))
        {
            foreach (var shard in stream.Shards)
            {
                var joining = move is not null && move.GroupId == shard.GroupId && move.ToNode == cluster.NodeId;
                if (!shard.Replicas.Contains(cluster.NodeId) && !joining)
                {
                    continue;
                }

                wanted.Add(shard.GroupId);
                if (shards.Find(shard.GroupId) is { Group.Completion.IsFaulted: true } failed && time.GetUtcNow() >= NextReopen(shard.GroupId))
                {
                    // A group stopped by a storage or state-machine failure: closed and opened
                    // again from what is stored, at most every ReopenInterval.
                    _reopened[shard.GroupId] = time.GetUtcNow();
                    ReplicaReopening(logger, stream.Name, shard.ShardId, failed.Group.Completion.Exception?.GetBaseException().Message ?? "");
                    await shards.CloseAsync(shard.GroupId, deleteData: false).ConfigureAwait(false);
                }

                if (shards.Find(shard.GroupId) is null)
                {
                    // A replica moving in joins the running group as a learner: it starts with no voters.
                    var voters = joining ? [] : shard.Replicas.Select(RaftNodeIds.Of).Order().ToList();
                    var identity = new ShardIdentity(stream.Name, stream.StreamId, shard.ShardId, shard.GroupId);
                    await shards.OpenAsync(identity, voters, stream.RetentionHours, cancellationToken).ConfigureAwait(false);
                    ReplicaOpened(logger, stream.Name, shard.ShardId, shard.GroupId, joining);
                }
            }
        }

        // Replicas stored before this start are listed once; from then on every replica is open.
        _storedAtStart ??= [.. shards.StoredGroupIds()];
        _storedAtStart.ExceptWith(wanted);
        var unwanted = _storedAtStart.Concat(shards.All.Select(r => r.Identity.GroupId)).Distinct().Where(id => !wanted.Contains(id)).ToList();
        if (unwanted.Count == 0)
        {
            return;
        }

        // Deleting data is final, so it is decided on metadata known to be current: a node that
        // restarted replays the controller's log, and on the way its own replicas look unplaced
        // (their stream not created yet, a move to it not started yet).
        var current = await cluster.Controller!.ReadLinearizableAsync(cancellationToken).ConfigureAwait(false);
        foreach (var groupId in unwanted)
        {
            if (IsGone(current, groupId))
            {
                await shards.CloseAsync(groupId, deleteData: true).ConfigureAwait(false);
                _storedAtStart.Remove(groupId);
                ReplicaDeleted(logger, groupId);
            }
        }
    }

    private DateTimeOffset NextReopen(long groupId) => _reopened.TryGetValue(groupId, out var last) ? last + _reopenInterval : DateTimeOffset.MinValue;

    // A replica whose group still exists but no longer lists this node was moved away; one whose
    // group the metadata no longer knows, though it created it, belonged to a deleted stream.
    private bool IsGone(ClusterMetadata metadata, long groupId) =>
        metadata.TryGetShard(groupId, out var stream, out var shard)
            ? stream.Status == StreamStatus.Deleting || (!shard.Replicas.Contains(cluster.NodeId) && metadata.PendingMove?.GroupId != groupId)
            : groupId < metadata.NextGroupId;

    private async Task ShardLeaderDutiesAsync(ShardReplica replica, StreamRecord stream, ShardRecord shard, ClusterMetadata metadata, CancellationToken cancellationToken)
    {
        var status = replica.Group.Status;
        if (shard.Leader != cluster.NodeId || shard.LeaderTerm < status.Term)
        {
            await cluster.Proposer.ProposeAsync(new ControllerCommand
            {
                ReportShardLeader = new ReportShardLeaderCommand { GroupId = shard.GroupId, NodeId = cluster.NodeId, Term = status.Term },
            }, cancellationToken).ConfigureAwait(false);
        }

        if (!shard.IsOpen && shard.EndingSequenceNumber is null)
        {
            var seal = await replica.SealAsync(cancellationToken).ConfigureAwait(false);
            var state = replica.State;
            var ending = state.LastRecordIndex > 0 ? new SequenceNumber(state.LastRecordIndex, Math.Max(0, state.LastRecordCount - 1)) : new SequenceNumber(seal, 0);
            await cluster.Proposer.ProposeAsync(new ControllerCommand
            {
                ReportShardSealed = new ReportShardSealedCommand { GroupId = shard.GroupId, EndingSequenceNumber = ending.ToString() },
            }, cancellationToken).ConfigureAwait(false);
            ShardSealed(logger, stream.Name, shard.ShardId, seal);
        }

        if (metadata.PendingMove is { } move && move.GroupId == shard.GroupId)
        {
            await MoveReplicaAsync(replica, move, cancellationToken).ConfigureAwait(false);
            return;
        }

        await BalanceLeadershipAsync(replica, shard, metadata, status.Term, cancellationToken).ConfigureAwait(false);
    }

    // Placement spreads preferred leaders evenly; elections do not. A leader that is not its
    // shard's preferred replica hands over once it has led for a while and the preferred node is
    // a member in good standing.
    private async Task BalanceLeadershipAsync(ShardReplica replica, ShardRecord shard, ClusterMetadata metadata, long term, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!_leadership.TryGetValue(shard.GroupId, out var held) || held.Term != term)
        {
            _leadership[shard.GroupId] = (term, now);
            return;
        }

        var preferred = shard.PreferredLeader;
        if (preferred == cluster.NodeId
            || now - held.Since < _balanceInterval
            || !metadata.Nodes.TryGetValue(preferred, out var node)
            || node.Role != MemberRole.Voter
            || !replica.Group.Status.ConfState.Voters.Contains(node.RaftId))
        {
            return;
        }

        _leadership[shard.GroupId] = (term, now);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await replica.Group.TransferLeadershipAsync(node.RaftId, timeout.Token).ConfigureAwait(false);
            LeadershipHandedOver(logger, replica.Identity.StreamName, shard.ShardId, preferred);
        }
        catch (Exception ex) when (ex is LeadershipTransferFailedException or NotLeaderException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The preferred replica is behind or away: try again after the next interval.
        }
    }

    // One replica move, by single-node membership changes on the shard's group: the new replica
    // joins as a learner, is promoted once caught up, then the old one is removed.
    private async Task MoveReplicaAsync(ShardReplica replica, ReplicaMove move, CancellationToken cancellationToken)
    {
        var group = replica.Group;
        var to = RaftNodeIds.Of(move.ToNode);
        var from = RaftNodeIds.Of(move.FromNode);
        var conf = await group.GetConfStateAsync(cancellationToken).ConfigureAwait(false);
        if (!conf.Voters.Contains(to) && !conf.IsLearner(to))
        {
            await group.ProposeConfChangeAsync(ConfChange.AddLearner(to), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (conf.IsLearner(to))
        {
            try
            {
                await group.ProposeConfChangeAsync(ConfChange.Promote(to), cancellationToken).ConfigureAwait(false);
            }
            catch (MembershipChangeRefusedException)
            {
                return;
            }
        }

        if (from == cluster.RaftId)
        {
            // The leader is the replica leaving: hand over first, the new leader removes it.
            await group.TransferLeadershipAsync(to, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (conf.Voters.Contains(from) || conf.IsLearner(from))
        {
            await group.ProposeConfChangeAsync(ConfChange.Remove(from), cancellationToken).ConfigureAwait(false);
        }

        await cluster.Proposer.ProposeAsync(MoveStep(move, ReplicaMoveStep.Finish), cancellationToken).ConfigureAwait(false);
        MoveFinished(logger, move.GroupId, move.FromNode, move.ToNode);
    }

    private static ControllerCommand MoveStep(ReplicaMove move, ReplicaMoveStep step) => new()
    {
        ReplicaMoveStep = new ReplicaMoveStepCommand { GroupId = move.GroupId, FromNode = move.FromNode, ToNode = move.ToNode, Step = step },
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A reconciliation round failed; it is retried")]
    private static partial void RoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened the replica of {Stream}/{Shard} (group {GroupId}); joining a running group: {Joining}")]
    private static partial void ReplicaOpened(ILogger logger, string stream, string shard, long groupId, bool joining);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The replica of {Stream}/{Shard} stopped ({Reason}); opening it again from its stored state")]
    private static partial void ReplicaReopening(ILogger logger, string stream, string shard, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted the replica of group {GroupId}: it moved away or its stream was deleted")]
    private static partial void ReplicaDeleted(ILogger logger, long groupId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed shard {Stream}/{Shard} at index {SealIndex}")]
    private static partial void ShardSealed(ILogger logger, string stream, string shard, long sealIndex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed the leadership of {Stream}/{Shard} to its preferred replica {Node}")]
    private static partial void LeadershipHandedOver(ILogger logger, string stream, string shard, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Moving the replica of group {GroupId} from {FromNode} to {ToNode}")]
    private static partial void MoveStarting(ILogger logger, long groupId, string fromNode, string toNode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved the replica of group {GroupId} from {FromNode} to {ToNode}")]
    private static partial void MoveFinished(ILogger logger, long groupId, string fromNode, string toNode);
}
