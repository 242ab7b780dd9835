using System.Globalization;
using Streams.Client;
using Streams.Client.Producing;
using Streams.Load.Engine;

namespace Streams.Load.Targets;

/// <summary>
/// The SDK's <see cref="Producer"/>: each operation is one record, sent under the virtual producer's
/// own partition key and complete when its receipt says it was written. All virtual producers share
/// one <see cref="StreamsClient"/> (one connection per node) and one producer, which batches, as an
/// application would.
/// </summary>
internal sealed class SdkProducerTarget(StreamsDeployment deployment, string streamName, int shards, int recordBytes, ProducerTransport transport) : LoadTarget
{
    private StreamsClient? _client;
    private Producer? _producer;
    private string[] _keys = [];
    private byte[] _data = [];

    public override string System => "Streams";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"SDK producer ({(transport == ProducerTransport.ProduceStream ? "Produce stream" : "PutRecords")}, 5 ms linger), {recordBytes} B records, {shards} shards");

    public override string Guarantee => deployment.Guarantee;

    public override int RecordBytes => recordBytes;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await deployment.CreateStreamAsync(streamName, shards, cancellationToken).ConfigureAwait(false);
        _client = new StreamsClient(new StreamsClientOptions { Endpoints = deployment.Endpoints });
        _producer = _client.CreateProducer(new ProducerOptions { StreamName = streamName, Transport = transport, BufferMaxBytes = 256L * 1024 * 1024 });
        _keys = [.. Enumerable.Range(0, 4096).Select(i => string.Create(CultureInfo.InvariantCulture, $"producer-{i}"))];
        _data = RecordBatches.Data(recordBytes, 7).ToByteArray();
    }

    public override async ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken)
    {
        var receipt = await _producer!.SendAsync(_keys[producer % _keys.Length], _data, null, cancellationToken).ConfigureAwait(false);
        await receipt.Completion.ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            await _producer.DisposeAsync().ConfigureAwait(false);
        }

        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}
