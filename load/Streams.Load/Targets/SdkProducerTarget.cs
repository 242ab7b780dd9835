using System.Globalization;
using Streams.Client.Producing;
using Streams.Load.Engine;

namespace Streams.Load.Targets;

/// <summary>
/// The SDK's <see cref="Producer"/>: each operation is one record, sent under the virtual producer's
/// own partition key through a <see cref="SharedSdkProducer"/>, and complete when its receipt says
/// it was written.
/// </summary>
internal sealed class SdkProducerTarget(StreamsDeployment deployment, string streamName, int shards, int recordBytes, ProducerTransport transport) : LoadTarget
{
    private SharedSdkProducer? _producer;
    private byte[] _data = [];

    public override string System => "Streams";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"SDK producer ({(transport == ProducerTransport.ProduceStream ? "Produce stream" : "PutRecords")}, 5 ms linger), {recordBytes} B records, {shards} shards");

    public override string Guarantee => deployment.Guarantee;

    public override int RecordBytes => recordBytes;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await deployment.CreateStreamAsync(streamName, shards, cancellationToken).ConfigureAwait(false);
        _producer = new SharedSdkProducer(deployment, streamName, transport);
        _data = RecordBatches.Data(recordBytes, 7).ToByteArray();
    }

    public override async ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken)
    {
        var receipt = await _producer!.SendAsync(producer, _data, cancellationToken).ConfigureAwait(false);
        await receipt.Completion.ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            await _producer.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}
