using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Api;
using Streams.Client.Retries;
using Streams.Client.Routing;
using Streams.Client.Telemetry;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client;

/// <summary>
/// The way into a Streams cluster: every operation of the Streams, Consumers, Firehose and Cluster services,
/// async and cancellable, retried with exponential backoff and jitter when a node or leader is
/// unavailable, and record reads and writes sent straight to their shard's leader from a cached
/// shard map. Failures the server refuses surface as <see cref="StreamsException"/>.
/// Thread-safe: make one per application and share it.
/// </summary>
public sealed partial class StreamsClient : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<Uri, RpcChannel> _channels = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedMap>>> _maps = new(StringComparer.Ordinal);
    private readonly RetryPolicy _retry;
    private readonly ILogger _logger;
    private readonly Lock _randomLock = new();
    private int _seed;
    private int _disposed;

    /// <summary>Creates a client; no connection is made until the first call.</summary>
    /// <param name="options">The settings; they are validated here.</param>
    public StreamsClient(StreamsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _retry = new RetryPolicy(options.InitialRetryDelay, options.MaxRetryDelay);
        LoggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger<StreamsClient>();
        Metrics = new ClientMetrics();
    }

    /// <summary>A client of the nodes at <paramref name="endpoints"/> with default settings.</summary>
    /// <param name="endpoints">Node addresses, such as <c>http://127.0.0.1:7400</c>.</param>
    public static StreamsClient Create(params string[] endpoints) => new(StreamsClientOptions.ForEndpoints(endpoints));

    /// <summary>The settings.</summary>
    public StreamsClientOptions Options { get; }

    /// <summary>The meter's name of the SDK's metrics (operations, retries, producer and consumer figures).</summary>
    public static string MeterName => ClientMetrics.MeterName;

    internal ILoggerFactory LoggerFactory { get; }

    internal ClientMetrics Metrics { get; }

    internal TimeProvider Time => Options.TimeProvider;

    /// <summary>
    /// The stream's shard map: from the cache while it is younger than
    /// <see cref="StreamsClientOptions.ShardMapTimeToLive"/>, else fetched (ListShards and DescribeCluster).
    /// </summary>
    /// <param name="streamName">The stream.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<ShardMap> GetShardMapAsync(string streamName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        while (true)
        {
            var entry = _maps.GetOrAdd(streamName, name => new Lazy<Task<CachedMap>>(() => FetchMapAsync(name)));
            CachedMap cached;
            try
            {
                cached = await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A failed fetch is not cached: the next caller tries again.
                _maps.TryRemove(new KeyValuePair<string, Lazy<Task<CachedMap>>>(streamName, entry));
                throw;
            }

            if (Time.GetUtcNow() - cached.FetchedAt < Options.ShardMapTimeToLive)
            {
                return cached.Map;
            }

            _maps.TryRemove(new KeyValuePair<string, Lazy<Task<CachedMap>>>(streamName, entry));
        }
    }

    /// <summary>Forgets the stream's cached shard map: the next request fetches it again.</summary>
    /// <param name="streamName">The stream.</param>
    public void InvalidateShardMap(string streamName)
    {
        ArgumentNullException.ThrowIfNull(streamName);
        _maps.TryRemove(streamName, out _);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
        Metrics.Dispose();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The channel to <paramref name="address"/>, made once and reused.</summary>
    internal RpcChannel ChannelFor(Uri address)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _channels.GetOrAdd(address, static (a, options) => RpcChannel.ForAddress(a, options), Options.ChannelOptions);
    }

    /// <summary>The configured endpoint requests go to when no shard leader is known; moves on to the next after a failure.</summary>
    internal Uri CurrentEndpoint => Options.Endpoints[(int)((uint)Volatile.Read(ref _seed) % (uint)Options.Endpoints.Count)];

    /// <summary>A draw in [0, 1) from the configured random source (which is not thread-safe by itself).</summary>
    internal double NextRandom()
    {
        lock (_randomLock)
        {
            return Options.Random.NextDouble();
        }
    }

    /// <summary>
    /// Runs a unary call with retries: to the leader of <paramref name="route"/>'s shard when it is
    /// known, else to the current endpoint; on a retryable failure it waits (backoff with jitter),
    /// refreshes routing and tries again until <see cref="StreamsClientOptions.MaxAttempts"/> or the
    /// request timeout.
    /// </summary>
    internal async Task<TResponse> CallAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, RequestRoute route, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = Time.GetUtcNow() + Options.RequestTimeout;
        for (var attempt = 1; ; attempt++)
        {
            var endpoint = await TargetOfAsync(route, attempt, cancellationToken).ConfigureAwait(false);
            try
            {
                using var call = ChannelFor(endpoint).UnaryCall(method, request, new CallOptions { Deadline = deadline, CancellationToken = cancellationToken });
                var response = await call.ResponseAsync.ConfigureAwait(false);
                Metrics.Completed(method.Name, "ok", started);
                return response;
            }
            catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
            {
                Metrics.Completed(method.Name, "cancelled", started);
                throw new OperationCanceledException($"{method.Name} was cancelled.", ex, cancellationToken);
            }
            catch (RpcException ex)
            {
                var delay = _retry.DelayBefore(attempt - 1, NextRandom());
                if (!RetryPolicy.IsRetryable(ex) || attempt >= Options.MaxAttempts || Time.GetUtcNow() + delay >= deadline)
                {
                    Metrics.Completed(method.Name, ex.StatusCode.ToString(), started);
                    throw StreamsException.From(ex);
                }

                var errorCode = ex.Trailers.GetValue(StreamsErrors.TrailerName) ?? string.Empty;
                ClientLog.Retrying(_logger, method.Name, attempt, endpoint, ex.StatusCode, errorCode, delay.TotalMilliseconds);
                Metrics.Retried(method.Name, ex.StatusCode.ToString());
                OnFailure(endpoint, route, ex);
                await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void OnFailure(Uri endpoint, RequestRoute route, RpcException exception)
    {
        if (RetryPolicy.SuggestsStaleRouting(exception) && route.StreamName is { } stream)
        {
            InvalidateShardMap(stream);
        }

        // A configured endpoint that failed hands over to the next one.
        if (Options.Endpoints.Count > 1 && endpoint == CurrentEndpoint)
        {
            Interlocked.Increment(ref _seed);
        }
    }

    private async ValueTask<Uri> TargetOfAsync(RequestRoute route, int attempt, CancellationToken cancellationToken)
    {
        // After two failures at the shard's leader (a stale map, an unreachable advertised
        // address), the configured endpoints take over: any node forwards.
        if (!Options.RouteToShardLeaders || route.StreamName is null || route.ShardId is null || attempt > 2)
        {
            return CurrentEndpoint;
        }

        try
        {
            var map = await GetShardMapAsync(route.StreamName, cancellationToken).ConfigureAwait(false);
            return map.Find(route.ShardId)?.LeaderAddress ?? CurrentEndpoint;
        }
        catch (Exception ex) when (ex is StreamsException or RpcException)
        {
            ClientLog.ShardMapFailed(_logger, route.StreamName, ex);
            return CurrentEndpoint;
        }
    }

    private async Task<CachedMap> FetchMapAsync(string streamName)
    {
        using var timeout = new CancellationTokenSource(Options.RequestTimeout, Time);
        var shards = new List<Shard>();
        var request = new ListShardsRequest { StreamName = streamName };
        while (true)
        {
            var page = await CallAsync(StreamsMethods.ListShards, request, RequestRoute.None, timeout.Token).ConfigureAwait(false);
            shards.AddRange(page.Shards);
            if (page.NextToken.Length == 0)
            {
                break;
            }

            request = new ListShardsRequest { NextToken = page.NextToken };
        }

        var cluster = await CallAsync(ClusterMethods.DescribeCluster, new DescribeClusterRequest(), RequestRoute.None, timeout.Token).ConfigureAwait(false);
        var addresses = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var member in cluster.Members)
        {
            if (Uri.TryCreate(member.Address, UriKind.Absolute, out var address))
            {
                addresses[member.NodeId] = address;
            }
        }

        var map = ShardMap.Create(streamName, shards, addresses);
        ClientLog.ShardMapRefreshed(_logger, streamName, map.OpenShards.Length, map.Shards.Length);
        return new CachedMap(map, Time.GetUtcNow());
    }

    private sealed record CachedMap(ShardMap Map, DateTimeOffset FetchedAt);
}
