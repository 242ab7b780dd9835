using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Rpc.Server;
using Streams.Server.Api;
using Streams.Server.Cluster;
using Streams.Server.Controller.V1;
using Streams.Server.Metadata.V1;

namespace Streams.Server.Controller;

/// <summary>
/// Serves <c>ControllerPeer</c>: other nodes send controller commands here when this node leads
/// the controller group. A node that does not lead answers UNAVAILABLE with its leader hint; it
/// never forwards again, so a command takes at most one hop.
/// </summary>
internal sealed class ControllerPeerService(StreamsCluster cluster) : IRpcService
{
    /// <inheritdoc/>
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(ControllerPeerMethods.Propose, ProposeAsync);
    }

    private async Task<ProposeReply> ProposeAsync(ControllerCommand command, ServerCallContext context)
    {
        var controller = cluster.Controller ?? throw StreamsApiException.Unavailable("This node is starting; retry.").ToRpcException();
        try
        {
            await controller.ProposeAsync(command, context.CancellationToken).ConfigureAwait(false);
            return new ProposeReply { AppliedIndex = controller.State.AppliedIndex };
        }
        catch (StreamsApiException ex) when (ex.Code != StatusCode.Unavailable && ex.Code != StatusCode.Internal)
        {
            return new ProposeReply { ErrorName = ex.ErrorName, ErrorMessage = ex.Message, AppliedIndex = controller.State.AppliedIndex };
        }
        catch (NotLeaderException ex)
        {
            // Lost leadership before or after appending: the sender tries the new leader (a
            // command that did commit is applied once more there, which the controller answers
            // as unchanged or, for a create, as in use).
            throw StreamsApiException.Unavailable(
                ex.MayHaveCommitted ? "This node lost the controller's leadership while proposing; the command may have been applied." : "This node does not lead the controller group.",
                cluster.Directory.NameOf(ex.LeaderHint)).ToRpcException();
        }
    }
}
