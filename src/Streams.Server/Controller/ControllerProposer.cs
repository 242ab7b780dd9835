using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Server.Api;
using Streams.Server.Cluster;
using Streams.Server.Metadata.V1;

namespace Streams.Server.Controller;

/// <summary>
/// Gets a controller command applied from any node: proposed here when this node leads the
/// controller group, else sent to the leader in one hop. While there is no leader (an election),
/// or the leader changes, it tries again until the caller's deadline.
/// </summary>
internal sealed class ControllerProposer(StreamsCluster cluster, TimeProvider time)
{
    private static readonly TimeSpan _retryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Applies <paramref name="command"/>; a refusal is a <see cref="StreamsApiException"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="cancellationToken">The caller's deadline or cancellation.</param>
    public async Task ProposeAsync(ControllerCommand command, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var controller = cluster.Controller ?? throw StreamsApiException.Unavailable("This node is starting; retry.");
            if (command.CommandCase != ControllerCommand.CommandOneofCase.Bootstrap && !controller.Current.IsBootstrapped)
            {
                // A cluster forming: its first controller leader bootstraps it within an election or two.
                await Task.Delay(_retryDelay, time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                if (controller.IsLeader)
                {
                    await controller.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var leader = controller.LeaderRaftId;
                var address = leader == 0 ? null : cluster.Directory.AddressOf(leader);
                if (address is not null)
                {
                    using var call = cluster.Peers.Get(address)
                        .UnaryCall(ControllerPeerMethods.Propose, command, new CallOptions { CancellationToken = cancellationToken, Deadline = time.GetUtcNow().AddSeconds(10) });
                    var reply = await call.ResponseAsync.ConfigureAwait(false);

                    // Read-your-writes: this node's copy catches up with the command before answering.
                    await controller.State.Applied.WaitAsync(reply.AppliedIndex, cancellationToken).ConfigureAwait(false);
                    if (reply.ErrorName.Length > 0)
                    {
                        throw ControllerGroup.ToException(new Metadata.MetadataError(reply.ErrorName, reply.ErrorMessage));
                    }

                    return;
                }
            }
            catch (NotLeaderException ex) when (!ex.MayHaveCommitted)
            {
                // Lost leadership before proposing: try the new leader.
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && !cancellationToken.IsCancellationRequested)
            {
                // The leader moved or is unreachable; ask again once the group settles.
            }

            await Task.Delay(_retryDelay, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
