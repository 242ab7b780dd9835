using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Rpc;
using Streams.Server.Tests.Firehose;
using Streams.V1;
using Xunit.Sdk;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>
/// A <see cref="TestCluster"/> of three nodes with short Firehose sessions (3 s) and reports every
/// second, an s3rver with one bucket in the cluster's root, and an SDK client for them.
/// </summary>
internal sealed class FirehoseCluster : IAsyncDisposable
{
    public const string Bucket = "firehose-out";

    /// <summary>The nodes' Firehose session timeout: how long a killed node's shards wait before moving.</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(3);

    private readonly TestTimeline _timeline;
    private readonly ILoggerFactory _loggers;

    private FirehoseCluster(TestCluster cluster, S3rverProcess s3, TestTimeline timeline)
    {
        Cluster = cluster;
        S3 = s3;
        _timeline = timeline;
        _loggers = timeline.LoggerFactory();
        Client = new StreamsClient(new StreamsClientOptions
        {
            Endpoints = [.. cluster.Nodes.Select(n => n.GrpcAddress)],
            RequestTimeout = TimeSpan.FromSeconds(10),
            InitialRetryDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromMilliseconds(500),
            LoggerFactory = _loggers,
        });
        ReadBack = new S3ReadBack(s3.Endpoint);
    }

    public TestCluster Cluster { get; }

    public S3rverProcess S3 { get; }

    /// <summary>The SDK client over every node.</summary>
    public StreamsClient Client { get; }

    /// <summary>The AWS CLI and boto3, pointed at s3rver itself (never through a proxy).</summary>
    public S3ReadBack ReadBack { get; }

    /// <summary>Set by a failing test: the data and every node's output stay.</summary>
    public bool Failed { get; set; }

    public NodeProcess Node(string id) => Cluster.Node(id);

    public static async Task<FirehoseCluster> StartAsync(string name, TestTimeline timeline)
    {
        var cluster = await TestCluster.StartAsync(3, "firehose-" + name,
        [
            "--Firehose:SessionTimeout", SessionTimeout.ToString("c", CultureInfo.InvariantCulture),
            "--Firehose:ReportInterval", "00:00:01",
            "--Logging:LogLevel:Streams.Server.Firehose", "Debug",
        ]);
        S3rverProcess s3;
        try
        {
            // A port below the ephemeral range, as the nodes': s3rver is restarted on it while the nodes retry.
            s3 = await S3rverProcess.StartAsync(Path.Combine(cluster.Root, "s3rver"), [Bucket], TestCluster.FreePorts(1)[0]);
        }
        catch
        {
            await cluster.DisposeAsync();
            cluster.DeleteData();
            throw;
        }

        timeline.Log($"3 nodes listening; s3rver at {s3.Endpoint} with bucket {Bucket}; data under {cluster.Root}");
        return new FirehoseCluster(cluster, s3, timeline);
    }

    /// <summary>A running node (the first), for reads that must not go to a killed one.</summary>
    public NodeProcess AnyRunningNode() => Cluster.Nodes.First(n => n.IsRunning);

    /// <summary>Creates a stream and waits until it is ACTIVE with every shard led.</summary>
    public async Task<List<Shard>> CreateStreamAsync(string stream, int shards)
    {
        try
        {
            await Client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = shards, ReplicationFactor = 3 });
        }
        catch (StreamsException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // A retry of an attempt that did create it.
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var summary = (await Client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream })).StreamDescriptionSummary;
            var listed = (await Client.ListShardsAsync(new ListShardsRequest { StreamName = stream })).Shards.OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            if (summary.StreamStatus == StreamStatus.Active && listed.Count == shards && listed.All(s => s.Leader.Length > 0))
            {
                _timeline.Log($"stream {stream} ACTIVE: {string.Join("; ", listed.Select(s => $"{s.ShardId} leader {s.Leader}"))}");
                return listed;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Stream {stream} was not ACTIVE with {shards} led shards within 60 s: {summary.StreamStatus}, {string.Join(", ", listed.Select(s => $"{s.ShardId}={s.Leader}"))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>An S3 destination at <paramref name="endpoint"/> (s3rver or a proxy in front of it).</summary>
    public static DeliveryDestination S3Destination(Uri endpoint, string prefix, Compression compression, int intervalSeconds) => new()
    {
        S3 = new Streams.V1.S3Destination
        {
            Endpoint = endpoint.ToString().TrimEnd('/'),
            Bucket = Bucket,
            AccessKeyId = S3rverProcess.AccessKeyId,
            SecretAccessKey = S3rverProcess.SecretAccessKey,
        },
        Prefix = prefix,
        BufferingHints = new BufferingHints { SizeInMbs = 1, IntervalInSeconds = intervalSeconds },
        Compression = compression,
        RecordFormat = RecordFormat.Raw,
    };

    public async Task CreateDeliveryStreamAsync(string name, string source, DeliveryDestination destination)
    {
        await Client.CreateDeliveryStreamAsync(new CreateDeliveryStreamRequest { DeliveryStreamName = name, SourceStreamName = source, Destination = destination });
        _timeline.Log($"delivery stream {name} created: {source} -> {destination.S3.Endpoint}/{Bucket}/{destination.Prefix} ({destination.Compression}, every {destination.BufferingHints.IntervalInSeconds} s or {destination.BufferingHints.SizeInMbs} MiB)");
    }

    public async Task<DeliveryStreamDescription> DescribeAsync(string name) =>
        (await Client.DescribeDeliveryStreamAsync(new DescribeDeliveryStreamRequest { DeliveryStreamName = name })).DeliveryStreamDescription;

    /// <summary>The delivery stream's consumer group, shard by shard.</summary>
    public async Task<List<ShardCheckpoint>> CheckpointsAsync(string stream, string name) =>
        [.. (await Client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = "firehose." + name })).Checkpoints];

    /// <summary>
    /// Waits until the group's checkpoint of every shard is its last acknowledged record with nothing
    /// pending: every record delivered, whoever delivered it.
    /// </summary>
    public async Task WaitUntilDeliveredAsync(string stream, string name, IReadOnlyDictionary<string, string> lastAcked, TimeSpan timeout)
    {
        var deadline = _timeline.Elapsed + timeout;
        var lastState = "";
        while (true)
        {
            var checkpoints = await CheckpointsAsync(stream, name);
            var state = string.Join("; ", checkpoints.Select(c => $"{c.ShardId} at {Tail(c.SequenceNumber)}{(c.PendingSequenceNumber.Length > 0 ? $" pending {Tail(c.PendingSequenceNumber)}" : "")} owner {c.Owner}"));
            if (lastAcked.All(a => checkpoints.Any(c => c.ShardId == a.Key && c.SequenceNumber == a.Value && c.PendingSequenceNumber.Length == 0)))
            {
                _timeline.Log($"every record delivered: {state}");
                return;
            }

            lastState = state;
            if (_timeline.Elapsed > deadline)
            {
                var description = await DescribeAsync(name);
                throw new TimeoutException($"Delivery did not catch up within {timeout.TotalSeconds:F0} s. Last acknowledged: {string.Join("; ", lastAcked.Select(a => $"{a.Key} {Tail(a.Value)}"))}. Checkpoints: {lastState}. Describe: {description}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Every shard read from TRIM_HORIZON to its end through a running node.</summary>
    public async Task<Dictionary<string, IReadOnlyList<Record>>> ReadStreamAsync(string stream, IEnumerable<Shard> shards)
    {
        var node = AnyRunningNode();
        var read = new Dictionary<string, IReadOnlyList<Record>>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            read[shard.ShardId] = (await StreamOps.ReadShardAsync(node, stream, shard.ShardId)).Records;
        }

        return read;
    }

    /// <summary>The last digits of a sequence number, enough to tell them apart in the timeline.</summary>
    public static string Tail(string sequence) => sequence.Length > 8 ? "…" + sequence[^8..] : sequence;

    /// <summary>The exception a failed test throws: its message, the header, the timeline, every node's view and s3rver's output.</summary>
    public async Task<XunitException> FailureAsync(Exception failure, string header)
    {
        Failed = true;
        var cluster = await ClusterRun.FailureAsync(failure, header, _timeline.Lines, Cluster);
        var text = $"{cluster.Message}\n--- s3rver ({(S3.IsRunning ? "running" : "down")}, data {S3.DataDirectory}) output:\n{S3.Output()}\n";
        try
        {
            await File.WriteAllTextAsync(Path.Combine(Cluster.Root, "failure.txt"), $"{text}\n{failure}");
        }
        catch (IOException)
        {
            // Best effort.
        }

        return new XunitException(text, failure);
    }

    /// <summary>Kills the nodes and s3rver; deletes the data unless the test failed or STREAMS_CLUSTER_KEEP=1.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Cluster.DisposeAsync();
        S3.Dispose();
        _loggers.Dispose();
        if (Failed)
        {
            // Again, now that every node is down: their last lines too.
            Cluster.SaveOutputs();
        }
        else
        {
            Cluster.DeleteData();
        }
    }
}
