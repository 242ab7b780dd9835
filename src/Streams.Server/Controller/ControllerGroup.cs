using Google.Protobuf;
using Streams.Raft.Runtime;
using Streams.Server.Api;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.Rpc;

namespace Streams.Server.Controller;

/// <summary>
/// This node's member of the controller group, which holds the cluster's metadata: proposes
/// commands (on the leader) and answers reads from the local copy, linearizable on request.
/// </summary>
internal sealed class ControllerGroup(RaftGroup group, ControllerStateMachine state)
{
    /// <summary>The Raft group.</summary>
    public RaftGroup Group => group;

    /// <summary>The state machine.</summary>
    public ControllerStateMachine State => state;

    /// <summary>The metadata as applied on this node (possibly behind the leader's).</summary>
    public ClusterMetadata Current => state.Current;

    /// <summary>Whether this node leads the controller group now.</summary>
    public bool IsLeader => group.Status.IsLeader;

    /// <summary>The Raft id of the node believed to lead (0: unknown).</summary>
    public long LeaderRaftId => group.Status.Leader;

    /// <summary>
    /// Proposes a command on this node, which must lead; returns its result once applied here.
    /// A refusal comes back as a <see cref="StreamsApiException"/>.
    /// </summary>
    /// <exception cref="NotLeaderException">This node does not lead the controller group.</exception>
    public async ValueTask<ApplyResult> ProposeAsync(ControllerCommand command, CancellationToken cancellationToken)
    {
        var index = await group.ProposeAsync(command.ToByteArray(), cancellationToken).ConfigureAwait(false);
        var result = state.TakeResult(index) ?? throw new StreamsApiException($"The controller applied entry {index} but kept no result for it.");
        return result.Error is { } error ? throw ToException(error) : result;
    }

    /// <summary>The metadata, at least as new as anything committed before the call (ReadIndex).</summary>
    public async ValueTask<ClusterMetadata> ReadLinearizableAsync(CancellationToken cancellationToken)
    {
        await group.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        return state.Current;
    }

    /// <summary>The API error for a controller refusal.</summary>
    public static StreamsApiException ToException(MetadataError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var code = error.Name switch
        {
            Client.Api.StreamsErrors.InvalidArgument => StatusCode.InvalidArgument,
            Client.Api.StreamsErrors.ResourceNotFound => StatusCode.NotFound,
            Client.Api.StreamsErrors.LimitExceeded => StatusCode.ResourceExhausted,
            Client.Api.StreamsErrors.ResourceInUse => StatusCode.FailedPrecondition,
            _ => StatusCode.FailedPrecondition,
        };
        return new StreamsApiException(code, error.Name, error.Message);
    }
}
