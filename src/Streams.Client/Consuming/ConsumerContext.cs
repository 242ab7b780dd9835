using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Streams.Client.Retries;

namespace Streams.Client.Consuming;

/// <summary>What a consumer's parts share: the client, the validated options, the member id, the checkpoint policy, the logger and metric tags.</summary>
internal sealed class ConsumerContext
{
    public ConsumerContext(StreamsClient client, ConsumerOptions options, string memberId, ILogger logger)
    {
        Client = client;
        Options = options;
        MemberId = memberId;
        Logger = logger;
        Policy = CheckpointPolicy.Of(options);

        // Failed reads and joins are retried from the idle delay up to 5 s apart.
        Backoff = new RetryPolicy(options.IdleDelay, TimeSpan.FromSeconds(5) > options.IdleDelay ? TimeSpan.FromSeconds(5) : options.IdleDelay);
    }

    public StreamsClient Client { get; }

    public ConsumerOptions Options { get; }

    public string StreamName => Options.StreamName;

    public string GroupName => Options.GroupName;

    public string MemberId { get; }

    public ILogger Logger { get; }

    public CheckpointPolicy Policy { get; }

    public RetryPolicy Backoff { get; }

    public TimeProvider Time => Client.Time;

    /// <summary>The pause before retry number <paramref name="failures"/> (1 for the first) of a read or join.</summary>
    public TimeSpan BackoffAfter(int failures) => Backoff.DelayBefore(Math.Max(0, failures - 1), Client.NextRandom());

    /// <summary>The tags of the consumer metrics of a shard.</summary>
    public TagList Tags(string shardId) => new() { { "stream", StreamName }, { "group", GroupName }, { "shard", shardId } };
}
