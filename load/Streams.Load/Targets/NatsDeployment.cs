using System.Globalization;
using Streams.Load.Nats;

namespace Streams.Load.Targets;

/// <summary>
/// The peer: NATS JetStream on this machine, one server (streams R1) or three in a cluster (R3),
/// file storage, started and stopped by the harness.
/// </summary>
internal sealed class NatsDeployment : IAsyncDisposable
{
    private readonly NatsServers _servers;

    private NatsDeployment(NatsServers servers, int replicas, string version)
    {
        _servers = servers;
        Replicas = replicas;
        Version = version;
    }

    public int Replicas { get; }

    /// <summary>What <c>nats-server --version</c> says.</summary>
    public string Version { get; }

    public IReadOnlyList<Uri> ClientUrls => _servers.ClientUrls;

    public string Setup => string.Create(CultureInfo.InvariantCulture, $"{Replicas} server{(Replicas == 1 ? "" : "s")}, R{Replicas}, file storage ({Version})");

    /// <summary>
    /// What a JetStream publish acknowledgement means here: written to the OS, not synced (checked
    /// with strace on nats-server 2.9.10: no fsync per message; its block files are synced every 2
    /// minutes, and no setting of that version syncs each message).
    /// </summary>
    public string Guarantee => Replicas == 1
        ? "acknowledged once the server wrote it to the OS (no fsync; files synced every 2 min)"
        : "acknowledged once a majority (2 of 3) wrote it to the OS (no fsync; files synced every 2 min)";

    /// <summary>Starts <paramref name="replicas"/> servers (1 or 3) with their stores under <paramref name="directory"/>.</summary>
    public static async Task<NatsDeployment> StartAsync(int replicas, string directory, CancellationToken cancellationToken)
    {
        if (replicas is not (1 or 3))
        {
            throw new ArgumentException($"NATS runs with 1 or 3 servers here (R1 or R3); {replicas} was asked for.");
        }

        var version = (await NatsServers.VersionAsync(cancellationToken).ConfigureAwait(false)).Trim();
        var servers = await NatsServers.StartAsync(replicas, directory, null, cancellationToken).ConfigureAwait(false);
        return new NatsDeployment(servers, replicas, version);
    }

    public ValueTask DisposeAsync() => _servers.DisposeAsync();
}
