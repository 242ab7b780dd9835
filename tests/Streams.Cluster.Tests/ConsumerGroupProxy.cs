namespace Streams.Cluster.Tests;

/// <summary>
/// A TCP relay in front of one node, to cut one client off the cluster and back: while
/// partitioned, every relayed connection is reset and new ones are reset at once, as a network
/// partition looks to the client (its calls fail UNAVAILABLE) while the cluster runs on.
/// </summary>
internal sealed class ConsumerGroupProxy(Uri target) : IAsyncDisposable
{
    private readonly TcpRelay _relay = new(target);

    /// <summary>Where clients connect, <c>http://127.0.0.1:port</c>.</summary>
    public Uri Address => _relay.Address;

    /// <summary>Resets every relayed connection and refuses new ones until <see cref="Heal"/>.</summary>
    public void Partition() => _relay.CutOff();

    /// <summary>Relays again.</summary>
    public void Heal() => _relay.Resume();

    public ValueTask DisposeAsync() => _relay.DisposeAsync();
}
