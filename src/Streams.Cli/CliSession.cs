using Streams.Client.Api;
using Streams.Rpc.Client;

namespace Streams.Cli;

/// <summary>One command's connection to a node: the API clients, per-call options and the output.</summary>
internal sealed class CliSession : IDisposable
{
    private readonly RpcChannel _channel;

    public CliSession(Uri endpoint, TimeSpan timeout, Output output, TextReader input, CancellationToken cancellationToken)
    {
        Endpoint = endpoint;
        Timeout = timeout;
        Out = output;
        Input = input;
        Cancellation = cancellationToken;
        _channel = RpcChannel.ForAddress(endpoint, new RpcChannelOptions
        {
            // A PutRecords call carries up to 5 MiB of records plus their framing; GetRecords may
            // answer up to 10,000 records.
            MaxSendMessageSizeBytes = 8 * 1024 * 1024,
            MaxReceiveMessageSizeBytes = 64 * 1024 * 1024,
            ConnectTimeout = timeout < TimeSpan.FromSeconds(10) ? timeout : TimeSpan.FromSeconds(10),
        });
        Streams = new StreamsApiClient(_channel);
        Cluster = new ClusterApiClient(_channel);
        Consumers = new ConsumersApiClient(_channel);
        Firehose = new FirehoseApiClient(_channel);
    }

    public Uri Endpoint { get; }

    public TimeSpan Timeout { get; }

    public Output Out { get; }

    public TextReader Input { get; }

    /// <summary>Cancelled by Ctrl-C.</summary>
    public CancellationToken Cancellation { get; }

    public StreamsApiClient Streams { get; }

    public ClusterApiClient Cluster { get; }

    public ConsumersApiClient Consumers { get; }

    public FirehoseApiClient Firehose { get; }

    /// <summary>Options for one unary call: the <c>--timeout</c> deadline and Ctrl-C.</summary>
    public CallOptions Call() => new() { Deadline = DateTimeOffset.UtcNow + Timeout, CancellationToken = Cancellation };

    public void Dispose() => _channel.Dispose();
}
