using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Rpc.Server;

namespace Streams.Raft.Transport;

/// <summary>Registers the Raft transport's server side with a Streams RPC server.</summary>
public static class RaftTransportServiceCollectionExtensions
{
    /// <summary>
    /// Serves <c>streams.raft.v1.RaftTransport</c>, handing received messages to
    /// <paramref name="handler"/> (usually the node's <c>RaftHost</c>). Call after
    /// <c>AddStreamsRpc()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="handler">Takes every received message.</param>
    public static IServiceCollection AddRaftTransport(this IServiceCollection services, IRaftMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(handler);
        services.AddSingleton(sp => new RaftTransportService(handler, sp.GetService<ILogger<RaftTransportService>>()));
        return services.AddRpcService<RaftTransportService>();
    }
}
