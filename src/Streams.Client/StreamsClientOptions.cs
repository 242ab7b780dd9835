using Microsoft.Extensions.Logging;
using Streams.Rpc.Client;

namespace Streams.Client;

/// <summary>How a <see cref="StreamsClient"/> reaches the cluster and retries. Checked by <see cref="Validate"/>.</summary>
public sealed class StreamsClientOptions
{
    /// <summary>
    /// Nodes to start from, such as <c>http://127.0.0.1:7400</c>. Any node accepts any request; the
    /// client learns the others (and each shard's leader) from the cluster.
    /// </summary>
    public IReadOnlyList<Uri> Endpoints { get; init; } = [new Uri("http://127.0.0.1:7400")];

    /// <summary>
    /// How long one operation may take, retries included (30 s by default). A caller's own
    /// cancellation token can end it sooner.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most attempts of one operation (10 by default; 1 turns retries off).</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>The delay before the first retry; each further retry doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest delay between two attempts (2 s by default).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Send record writes and reads straight to the leader of their shard, found in a cached shard
    /// map (true by default). Off, every request goes to <see cref="Endpoints"/> and the node forwards.
    /// </summary>
    public bool RouteToShardLeaders { get; init; } = true;

    /// <summary>How long a stream's shard map is trusted before it is fetched again (30 s by default); an error that says a leader moved refreshes it sooner.</summary>
    public TimeSpan ShardMapTimeToLive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Transport settings for every channel (message sizes, TLS, keepalive).</summary>
    public RpcChannelOptions ChannelOptions { get; init; } = new() { MaxReceiveMessageSizeBytes = 64 * 1024 * 1024, MaxSendMessageSizeBytes = 64 * 1024 * 1024 };

    /// <summary>Where the client logs retries and routing changes; none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock for deadlines and backoff; a test may inject its own.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The source of retry jitter; a test may inject a seeded one.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>Throws an <see cref="ArgumentException"/> that says what to change when a setting is out of range.</summary>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("StreamsClientOptions.Endpoints is empty; give at least one node address, such as http://127.0.0.1:7400.", nameof(Endpoints));
        }

        foreach (var endpoint in Endpoints)
        {
            if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"StreamsClientOptions.Endpoints holds '{endpoint}'; each must be an absolute http:// or https:// address, such as http://127.0.0.1:7400.", nameof(Endpoints));
            }
        }

        Require(RequestTimeout > TimeSpan.Zero && RequestTimeout <= TimeSpan.FromHours(1), nameof(RequestTimeout), $"must be above 0 and at most 1 hour; it is {RequestTimeout}");
        Require(MaxAttempts is >= 1 and <= 1000, nameof(MaxAttempts), $"must be between 1 and 1,000; it is {MaxAttempts}");
        Require(InitialRetryDelay > TimeSpan.Zero, nameof(InitialRetryDelay), $"must be above 0; it is {InitialRetryDelay}");
        Require(MaxRetryDelay >= InitialRetryDelay, nameof(MaxRetryDelay), $"must be at least InitialRetryDelay ({InitialRetryDelay}); it is {MaxRetryDelay}");
        Require(ShardMapTimeToLive > TimeSpan.Zero, nameof(ShardMapTimeToLive), $"must be above 0; it is {ShardMapTimeToLive}");
        ArgumentNullException.ThrowIfNull(ChannelOptions, nameof(ChannelOptions));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Random, nameof(Random));
        ChannelOptions.Validate();
    }

    /// <summary>Options with <paramref name="endpoints"/> and every other setting at its default.</summary>
    /// <param name="endpoints">Node addresses, such as <c>http://127.0.0.1:7400</c>.</param>
    public static StreamsClientOptions ForEndpoints(params string[] endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var uris = new List<Uri>(endpoints.Length);
        foreach (var endpoint in endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            {
                throw new ArgumentException($"'{endpoint}' is not an absolute address; write it like http://127.0.0.1:7400.", nameof(endpoints));
            }

            uris.Add(uri);
        }

        var options = new StreamsClientOptions { Endpoints = uris };
        options.Validate();
        return options;
    }

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"StreamsClientOptions.{name} {problem}.", name);
        }
    }
}
