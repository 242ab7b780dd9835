using System.Globalization;
using Streams.Load.Engine;
using Streams.Load.Nats;

namespace Streams.Load.Targets;

/// <summary>
/// NATS JetStream: each operation is one message published to the scenario's stream, complete
/// when JetStream's acknowledgement arrives. Virtual producers share a few connections (one per
/// server), each with many publishes in flight, as Streams' virtual producers share its client.
/// </summary>
internal sealed class NatsTarget(NatsDeployment deployment, string key, int recordBytes) : LoadTarget
{
    private readonly string _stream = key.Replace('.', '-');
    private readonly string _subject = "load." + key.Replace('.', '-');
    private NatsConnection[] _connections = [];
    private byte[] _data = [];

    public override string System => "NATS JetStream";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"JetStream publish, {recordBytes} B messages, one stream, {deployment.ClientUrls.Count} connection{(deployment.ClientUrls.Count == 1 ? "" : "s")}");

    public override string Guarantee => deployment.Guarantee;

    public override int RecordBytes => recordBytes;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _data = RecordBatches.Data(recordBytes, 7).ToByteArray();
        _connections = new NatsConnection[deployment.ClientUrls.Count];
        for (var i = 0; i < _connections.Length; i++)
        {
            _connections[i] = await NatsConnection.ConnectAsync(deployment.ClientUrls[i], null, cancellationToken).ConfigureAwait(false);
        }

        await _connections[0].CreateStreamAsync(new NatsStreamConfig(_stream, [_subject], deployment.Replicas), cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken) =>
        await _connections[producer % _connections.Length].PublishAsync(_subject, _data, cancellationToken).ConfigureAwait(false);

    public override async ValueTask DisposeAsync()
    {
        if (_connections.Length > 0)
        {
            try
            {
                await _connections[0].DeleteStreamAsync(_stream, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The stream goes with the servers anyway.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        foreach (var connection in _connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}
