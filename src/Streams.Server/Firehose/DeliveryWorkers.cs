using Streams.Client;
using Streams.Server.Cluster;
using Streams.Server.Configuration;
using Streams.Server.Metadata.Firehose;
using Streams.Server.Metadata.V1;

namespace Streams.Server.Firehose;

/// <summary>
/// Runs this node's delivery workers: one per delivery stream in the controller's state, started
/// when one is created, restarted with the new destination when it is updated, stopped when it is
/// deleted. Workers are clients of their own node, so they read and checkpoint like any consumer
/// (routed to shard leaders by the client), and share shards with the other nodes' workers
/// through the delivery stream's consumer group.
/// </summary>
internal sealed class DeliveryWorkers(
    StreamsCluster cluster,
    NodeOptions node,
    FirehoseOptions options,
    DeliveryMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<DeliveryWorkers>();
    private readonly Dictionary<string, DeliveryWorker> _workers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _suffix = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()));
    private StreamsClient? _client;
    private string _dataDirectory = ".";
    private Task? _run;

    /// <summary>Starts supervising, once the node serves gRPC at <paramref name="self"/>.</summary>
    /// <param name="self">This node's gRPC address (its workers' way into the cluster).</param>
    /// <param name="dataDirectory">This node's data directory, under which relative local directories lie.</param>
    public void Start(Uri self, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (_run is not null)
        {
            return;
        }

        _dataDirectory = dataDirectory;
        _client = new StreamsClient(new StreamsClientOptions { Endpoints = [self], TimeProvider = time, LoggerFactory = loggerFactory });
        _run = Task.Run(() => SuperviseAsync(_stop.Token));
    }

    /// <inheritdoc />
    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Stops every worker; they leave their groups, so other nodes take their shards at once. The
    /// node calls it as soon as it is asked to stop (while it still serves the leave calls); host
    /// shutdown calls it again, before the cluster is disposed, and waits for the same stop.
    /// </summary>
    /// <param name="cancellationToken">Unused: workers stop promptly.</param>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _client?.Dispose();
        _stop.Dispose();
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await ReconcileAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(options.ScanInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            foreach (var worker in _workers.Values)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }

            _workers.Clear();
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var wanted = cluster.Metadata.DeliveryStreams;
        foreach (var (name, worker) in _workers.ToList())
        {
            if (!wanted.TryGetValue(name, out var record) || record.VersionId != worker.VersionId)
            {
                FirehoseLog.WorkerStopping(_logger, name, record is null ? "deleted" : $"version {record.VersionId}");
                _workers.Remove(name);
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }

        foreach (var record in wanted.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_workers.ContainsKey(record.Name))
            {
                _workers[record.Name] = StartWorker(record);
            }
        }
    }

    private DeliveryWorker StartWorker(DeliveryStreamRecord record)
    {
        var destination = record.ParseDestination();
        var logger = loggerFactory.CreateLogger<DeliveryWorker>();
        var memberId = DeliveryStreamRules.MemberIdOf(node.NodeId, _suffix);
        var context = new DeliveryContext
        {
            Client = _client!,
            Settings = DeliverySettings.From(record.Name, destination),
            Target = DeliveryTargets.Create(destination, _dataDirectory, logger),
            SourceStreamName = record.SourceStreamName,
            GroupName = record.ConsumerGroupName,
            MemberId = memberId,
            NodeId = node.NodeId,
            Report = ReportAsync,
            Leave = token => cluster.Proposer.ProposeAsync(new ControllerCommand
            {
                LeaveGroup = new LeaveGroupCommand { StreamName = record.SourceStreamName, GroupName = record.ConsumerGroupName, MemberId = memberId, TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds() },
            }, token),
            Metrics = metrics,
            Options = options,
            Logger = logger,
            Time = time,
        };
        var worker = new DeliveryWorker(context, record.InitialPosition, record.VersionId);
        FirehoseLog.WorkerStarting(_logger, record.Name, record.SourceStreamName, context.Target.Description, record.VersionId);
        worker.Start();
        return worker;
    }

    private Task ReportAsync(DeliveryProgressCommand command, CancellationToken cancellationToken) =>
        cluster.Proposer.ProposeAsync(new ControllerCommand { DeliveryProgress = command }, cancellationToken);
}
