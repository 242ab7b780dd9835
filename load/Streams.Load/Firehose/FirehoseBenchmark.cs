using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Streams.Client;
using Streams.Load.ClusterBench;
using Streams.Rpc;
using Streams.Server.Tests.Firehose;

namespace Streams.Load.Firehose;

/// <summary>
/// <c>streams-load firehose</c>: delivery streams from a cluster of node processes into s3rver on
/// this machine. Per cluster size: steady runs (open-loop puts at fixed rates, delivered as they
/// come: S3 MB/s, objects/s, Describe's lag, put-to-listed latency) and a drain run (a backlog put
/// first, then a delivery stream created: how fast the backlog reaches the bucket).
/// </summary>
internal static class FirehoseBenchmark
{
    /// <summary>What every node gets beyond the cluster's settings: fresher Describe figures than the node's default (5 s); sessions as by default.</summary>
    public static IReadOnlyList<string> NodeArguments { get; } = ["--Firehose:ReportInterval", "00:00:01"];

    public static async Task<int> RunAsync(FirehoseSettings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var root = settings.Directory ?? Path.Combine(Path.GetTempPath(), "streams-load-firehose-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var logRoot = Path.Combine(root, "logs");
        var outcome = new Outcome();
        Session.Progress($"data, objects and node logs under {root}");
        S3rverProcess? s3rver = null;
        try
        {
            s3rver = await S3rverProcess.StartAsync(Path.Combine(root, "s3rver"), [FirehoseLoad.Bucket], cancellationToken: cancellationToken).ConfigureAwait(false);
            outcome.S3rver = $"s3rver (pid {s3rver.ProcessId}) at {s3rver.Endpoint}";
            Session.Progress($"s3rver listening at {s3rver.Endpoint} after {clock.Elapsed.TotalSeconds:0.0} s");
            using var s3 = new AmazonS3Client(new BasicAWSCredentials(S3rverProcess.AccessKeyId, S3rverProcess.SecretAccessKey), new AmazonS3Config
            {
                ServiceURL = s3rver.Endpoint.ToString(),
                ForcePathStyle = true,
                AuthenticationRegion = "us-east-1",
            });
            foreach (var nodes in settings.Nodes)
            {
                await MeasureClusterAsync(settings, nodes, root, logRoot, s3rver, s3, outcome, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            outcome.Cancelled = true;
            Session.Progress("cancelled: reporting what was measured so far");
        }
        catch (Exception ex) when (ex is NodeExitedException or TimeoutException or InvalidOperationException or RpcException or StreamsException or AmazonS3Exception)
        {
            outcome.Aborted = ex is NodeExitedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            Session.Progress("ABORTED: " + outcome.Aborted);
        }
        finally
        {
            if (s3rver is not null)
            {
                outcome.S3rverExited = !s3rver.IsRunning;
                outcome.S3rverOutput = s3rver.Output();
                s3rver.Dispose();
            }
        }

        outcome.Took = clock.Elapsed;
        outcome.LoadAfter = ClusterBenchmarkRun.LoadAverage();
        var keepLogs = settings.Directory is not null || outcome.Failed;
        outcome.LogDirectory = keepLogs ? logRoot : null;
        if (settings.Directory is null)
        {
            ClusterBenchmarkRun.TryDelete(Path.Combine(root, "s3rver"));
            ClusterBenchmarkRun.TryDelete(Path.Combine(root, "data"));
            if (!keepLogs)
            {
                ClusterBenchmarkRun.TryDelete(root);
            }
        }

        var report = new FirehoseReport(settings, MachineInfo.Describe(), started, outcome);
        return await ClusterBenchmarkRun.PublishAsync(report.ToText(), report.ToMarkdown, settings.MarkdownFile, outcome).ConfigureAwait(false);
    }

    private static async Task MeasureClusterAsync(FirehoseSettings settings, int nodes, string root, string logRoot, S3rverProcess s3rver, IAmazonS3 s3, Outcome outcome, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var suffix = nodes.ToString(CultureInfo.InvariantCulture) + "-node";
        Session.Progress($"starting {nodes} node(s)");
        var cluster = await LocalCluster.StartAsync(nodes, Path.Combine(root, "data", suffix), Path.Combine(logRoot, suffix), settings.Durability, cancellationToken, NodeArguments).ConfigureAwait(false);
        try
        {
            outcome.Command ??= "dotnet Streams.Server.dll " + cluster.Nodes[0].Arguments;
            Session.Progress($"{nodes} node(s) listening after {clock.Elapsed.TotalSeconds:0.0} s");
            using var client = new StreamsClient(new StreamsClientOptions
            {
                Endpoints = [.. cluster.Nodes.Select(n => n.GrpcAddress)],
                RequestTimeout = settings.CallDeadline,
            });
            var load = new FirehoseLoad(settings, cluster, client, s3, s3rver, outcome.Failures);
            foreach (var rate in settings.Rates)
            {
                for (var run = 1; run <= settings.Runs; run++)
                {
                    var result = await load.SteadyAsync(rate, cancellationToken).ConfigureAwait(false);
                    outcome.Steady.Add(result);
                    Session.Progress(string.Create(CultureInfo.InvariantCulture, $"{nodes} node(s) steady {rate,6:N0}/s run {run}/{settings.Runs}: sent {result.Put.SentPerSecond:N0}/s, S3 {result.Delivery.MegabytesPerSecond:N1} MB/s, {result.Delivery.ObjectsPerSecond:N1} objects/s, lag p99 {result.Delivery.Lag.P99:N0} ms, put→listed p50 {result.Delivery.EndToEnd.P50:N0} ms p99 {result.Delivery.EndToEnd.P99:N0} ms; {result.Delivery.Objects} objects listed, {result.Delivery.Bytes:N0} bytes (Describe: {result.Delivery.DescribeBytes:N0})"));
                }
            }

            for (var run = 1; run <= settings.Runs; run++)
            {
                var result = await load.DrainAsync(cancellationToken).ConfigureAwait(false);
                outcome.Drains.Add(result);
                Session.Progress(string.Create(CultureInfo.InvariantCulture, $"{nodes} node(s) drain run {run}/{settings.Runs}: {result.Delivery.Bytes / 1e6:N0} MB delivered in {result.Delivery.Seconds:N1} s = {result.Delivery.MegabytesPerSecond:N1} MB/s (first object after {result.FirstObjectSeconds:N1} s); {result.Delivery.Objects} objects listed, {result.Delivery.Bytes:N0} bytes (Describe: {result.Delivery.DescribeBytes:N0})"));
            }
        }
        finally
        {
            outcome.Nodes.AddRange(cluster.Nodes.Select(n => new StreamsBenchmark.NodeSummary(n.Name, n.Pid, n.GrpcAddress, n.Arguments, n.ExitCode, n.Warnings, n.Errors, n.Diagnostics(), n.LogPath)));
            Session.Progress($"stopping the {nodes}-node cluster");
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Everything the report needs.</summary>
    internal sealed class Outcome : ClusterOutcome
    {
        public List<SteadyRun> Steady { get; } = [];

        public List<DrainRun> Drains { get; } = [];

        public Failures Failures { get; } = new();

        public List<StreamsBenchmark.NodeSummary> Nodes { get; } = [];

        public string? Command { get; set; }

        public string? S3rver { get; set; }

        public bool S3rverExited { get; set; }

        public string S3rverOutput { get; set; } = string.Empty;

        public override bool Failed => Aborted is not null || Failures.Any || S3rverExited || Nodes.Any(n => n.ExitCode is not null || n.Errors > 0);
    }
}
