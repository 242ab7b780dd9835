namespace Streams.Cluster.Tests;

/// <summary>The three node processes the consumer group tests share; the data is kept when a test failed.</summary>
public sealed class ConsumerGroupCluster : IAsyncLifetime
{
    private TestCluster? _cluster;

    internal TestCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    /// <summary>Set by a failing test, so the nodes' data and output stay for a look.</summary>
    public bool Failed { get; set; }

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(3, "consumers");

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            if (!Failed)
            {
                _cluster.DeleteData();
            }
        }
    }
}
