using System.Globalization;
using Streams.Client;
using Streams.Client.Producing;

namespace Streams.Load.Targets;

/// <summary>
/// One <see cref="StreamsClient"/> (one connection per node) and one SDK <see cref="Producer"/>
/// shared by every virtual producer, each sending under its own partition key, so that the producer
/// batches them as it would an application's records.
/// </summary>
internal sealed class SharedSdkProducer : IAsyncDisposable
{
    private readonly string[] _keys = [.. Enumerable.Range(0, 4096).Select(i => string.Create(CultureInfo.InvariantCulture, $"producer-{i}"))];
    private readonly Producer _producer;

    public SharedSdkProducer(StreamsDeployment deployment, string streamName, ProducerTransport transport)
    {
        Client = new StreamsClient(new StreamsClientOptions { Endpoints = deployment.Endpoints });
        _producer = Client.CreateProducer(new ProducerOptions { StreamName = streamName, Transport = transport, BufferMaxBytes = 256L * 1024 * 1024 });
    }

    /// <summary>The client the producer writes through (readers may share it).</summary>
    public StreamsClient Client { get; }

    /// <summary>Buffers one record of virtual producer <paramref name="producer"/>; the data is copied before this completes.</summary>
    public ValueTask<RecordReceipt> SendAsync(int producer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _producer.SendAsync(_keys[producer % _keys.Length], data, null, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _producer.DisposeAsync().ConfigureAwait(false);
        await Client.DisposeAsync().ConfigureAwait(false);
    }
}
