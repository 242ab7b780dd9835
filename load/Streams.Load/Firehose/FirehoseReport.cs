using System.Globalization;
using static Streams.Load.ClusterBench.ClusterReport;

namespace Streams.Load.Firehose;

/// <summary>The results of <c>streams-load firehose</c> as aligned text tables and Markdown.</summary>
internal sealed class FirehoseReport(FirehoseSettings settings, MachineInfo machine, DateTimeOffset started, FirehoseBenchmark.Outcome outcome)
{
    private static readonly CultureInfo _invariant = CultureInfo.InvariantCulture;

    public string ToText() => Document().ToText();

    public string ToMarkdown() => Document().ToMarkdown("Firehose benchmark", footerAsCode: true);

    private ReportDocument Document() => new(HeaderLines(), Tables(), FooterLines());

    private List<string> HeaderLines()
    {
        var status = Status(
            outcome,
            failed: "FAILURES: some puts or deliveries failed, or a node logged errors (details below): the figures are suspect",
            ok: "OK: no failed put, every record delivered, no node logged an error");
        var rates = string.Join(" and ", settings.Rates.Select(r => r.ToString("N0", _invariant) + "/s"));
        return
        [
            "Firehose benchmark (streams-load firehose): delivery streams from a Streams cluster of node processes into s3rver on this machine",
            $"machine:   {machine.Cores} logical cores ({machine.Cpu}), {machine.OperatingSystem}, {machine.RuntimeIdentifier}, {machine.Runtime}; load generator GC: {machine.Gc}",
            string.Create(_invariant, $"load:      1-minute load average {outcome.LoadBefore:0.00} before, {outcome.LoadAfter:0.00} at the end (the benchmark included); the nodes, s3rver and this process share the {machine.Cores} cores"),
            $"date:      {started.ToString("yyyy-MM-dd HH:mm:ss'Z'", _invariant)}, took {outcome.Took.TotalSeconds.ToString("0", _invariant)} s{(settings.Quick ? " (--quick: short runs and a small backlog, a smoke test, not a measurement)" : string.Empty)}",
            $"cluster:   {string.Join(" and ", settings.Nodes.Select(n => $"{n} node(s)"))}, child processes `dotnet Streams.Server.dll` on 127.0.0.1, replication factor = nodes, durability {settings.Durability}; progress reports every 1 s ({string.Join(' ', FirehoseBenchmark.NodeArguments)}); other settings the node's defaults",
            $"node:      {outcome.Command ?? "(the nodes did not start)"}",
            $"s3rver:    {outcome.S3rver ?? "(did not start)"}: one Node.js process storing each object as a file in a temporary directory on the same disk; bucket '{FirehoseLoad.Bucket}', path-style, keys S3RVER/S3RVER",
            $"delivery:  per run a fresh stream of {settings.Shards} shards and a delivery stream from TRIM_HORIZON into its own prefix; raw records (each followed by \"\\n\"), no compression, buffering {settings.BufferingMegabytes} MiB or {settings.BufferingSeconds} s; the delivery stream deleted after its run",
            string.Create(_invariant, $"steady:    open loop for {DurationText.Format(settings.Duration)} at {rates}: every 10 ms a PutRecords of rate/100 records of {settings.RecordBytes} B random data (incompressible) with random partition keys, to the nodes in turn, sent when due whatever is unanswered"),
            string.Create(_invariant, $"drain:     {settings.DrainMegabytes:N0} MB of {settings.RecordBytes} B records put first as fast as taken ({settings.DrainCallers} callers, {settings.DrainBatchRecords} records per call, closed loop); then the delivery stream is created and timed until every shard's checkpoint is its last record"),
            "figures:   S3 MB/s = object bytes (10^6 B, from the bucket listing) / window (steady: first put to last object listed; drain: CreateDeliveryStream to every checkpoint at its last record, which includes the workers' start; 'after first object' leaves that out); objects/s the same; catch-up = last put answered (drain: created) to every checkpoint at its last record",
            string.Create(_invariant, $"lag:       Describe's lag_millis (the oldest undelivered record's age, largest over shards, as of each worker's last report) sampled once a second from the first put until caught up; put→listed = a sampled record's PutRecords send time to the end of the first ListObjectsV2 (every {settings.ListPause.TotalMilliseconds:0} ms, all pages) showing the object whose key covers its sequence number; about {settings.E2eSamples:N0} samples per run"),
            $"method:    {settings.Runs} run(s) per measurement{(settings.Runs > 1 ? "; each figure is the median of the runs (min–max beside S3 MB/s)" : string.Empty)}; CPU = share of all {machine.Cores} cores used by the nodes together, and by s3rver",
            $"status:    {status}",
        ];
    }

    private List<(string Title, ReportTable Table)> Tables()
    {
        var tables = new List<(string, ReportTable)>();
        if (outcome.Steady.Count > 0)
        {
            string[] header = ["nodes", "rate", "sent/s", "put MB/s", "S3 MB/s", "min–max", "objects/s", "avg object", "lag p50 ms", "lag p99 ms", "lag max ms", "put→listed p50 ms", "p99 ms", "max ms", "catch-up s", "CPU nodes", "CPU s3rver", "failed"];
            var table = new ReportTable(header, [.. header.Select(_ => true)]);
            foreach (var group in outcome.Steady.GroupBy(r => (r.Nodes, r.Rate)))
            {
                var runs = group.ToList();
                table.Rows.Add(
                [
                    Integer(group.Key.Nodes),
                    Integer(group.Key.Rate) + "/s",
                    Integer(Median(runs, r => r.Put.SentPerSecond)),
                    Number(Median(runs, r => r.Put.MegabytesPerSecond), 1),
                    Number(Median(runs, r => r.Delivery.MegabytesPerSecond), 1),
                    $"{Number(runs.Min(r => r.Delivery.MegabytesPerSecond), 1)}–{Number(runs.Max(r => r.Delivery.MegabytesPerSecond), 1)}",
                    Number(Median(runs, r => r.Delivery.ObjectsPerSecond), 1),
                    Size(Median(runs, r => r.Delivery.Objects == 0 ? double.NaN : r.Delivery.Bytes / (double)r.Delivery.Objects)),
                    Integer(Median(runs, r => r.Delivery.Lag.P50)),
                    Integer(Median(runs, r => r.Delivery.Lag.P99)),
                    Integer(Median(runs, r => r.Delivery.Lag.Max)),
                    Integer(Median(runs, r => r.Delivery.EndToEnd.P50)),
                    Integer(Median(runs, r => r.Delivery.EndToEnd.P99)),
                    Integer(Median(runs, r => r.Delivery.EndToEnd.Max)),
                    Number(Median(runs, r => r.Delivery.CatchUpSeconds), 1),
                    Percent(Median(runs, r => r.Delivery.Cpu.NodesPercent)),
                    Percent(Median(runs, r => r.Delivery.Cpu.S3Percent)),
                    Integer(runs.Sum(r => r.Put.FailedRecords)),
                ]);
            }

            tables.Add(("Steady rate, open loop, 1 KiB records (medians of the runs):", table));
        }

        if (outcome.Drains.Count > 0)
        {
            string[] header = ["nodes", "backlog MB", "records", "put MB/s", "first object s", "drained in s", "S3 MB/s", "min–max", "S3 MB/s after first object", "objects", "avg object", "lag max ms", "failed uploads", "CPU nodes", "CPU s3rver"];
            var table = new ReportTable(header, [.. header.Select(_ => true)]);
            foreach (var group in outcome.Drains.GroupBy(r => r.Nodes))
            {
                var runs = group.ToList();
                table.Rows.Add(
                [
                    Integer(group.Key),
                    Integer(Median(runs, r => r.Put.Records * (double)settings.RecordBytes / 1e6)),
                    Integer(Median(runs, r => r.Put.Records)),
                    Number(Median(runs, r => r.Put.MegabytesPerSecond), 1),
                    Number(Median(runs, r => r.FirstObjectSeconds), 1),
                    Number(Median(runs, r => r.Delivery.Seconds), 1),
                    Number(Median(runs, r => r.Delivery.MegabytesPerSecond), 1),
                    $"{Number(runs.Min(r => r.Delivery.MegabytesPerSecond), 1)}–{Number(runs.Max(r => r.Delivery.MegabytesPerSecond), 1)}",
                    Number(Median(runs, r => r.Delivery.Bytes / 1e6 / (r.Delivery.Seconds - r.FirstObjectSeconds)), 1),
                    Integer(Median(runs, r => r.Delivery.Objects)),
                    Size(Median(runs, r => r.Delivery.Objects == 0 ? double.NaN : r.Delivery.Bytes / (double)r.Delivery.Objects)),
                    Integer(Median(runs, r => r.Delivery.Lag.Max)),
                    Integer(runs.Sum(r => r.Delivery.UploadFailures)),
                    Percent(Median(runs, r => r.Delivery.Cpu.NodesPercent)),
                    Percent(Median(runs, r => r.Delivery.Cpu.S3Percent)),
                ]);
            }

            tables.Add(("Drain of a backlog: put first, then the delivery stream created (medians of the runs):", table));
        }

        return tables;
    }

    private List<string> FooterLines()
    {
        var lines = new List<string>();
        var mismatched = outcome.Steady.Select(r => r.Delivery).Concat(outcome.Drains.Select(r => r.Delivery)).Count(d => d.DescribeBytes != d.Bytes);
        if (outcome.Steady.Count + outcome.Drains.Count > 0)
        {
            lines.Add(mismatched == 0
                ? "check:     in every run Describe's bytes_delivered equals the bytes listed in the run's prefix"
                : $"check:     in {mismatched} run(s) Describe's bytes_delivered differs from the bytes listed in the run's prefix");
        }

        lines.AddRange(NodeLines(outcome.Nodes));

        if (outcome.S3rverExited || outcome.S3rverOutput.Length > 0)
        {
            lines.Add($"s3rver:    {(outcome.S3rverExited ? "EXITED during the benchmark; " : string.Empty)}its output: {outcome.S3rverOutput.Trim()}");
        }

        foreach (var (kind, count) in outcome.Failures.Kinds)
        {
            lines.Add($"FAILED:    {count} × {kind}");
        }

        if (outcome.LogDirectory is { } logs)
        {
            lines.Add($"logs:      node logs kept in {logs}");
        }

        return lines;
    }

    private static string Size(double bytes) => !double.IsFinite(bytes) ? "-" : bytes >= 1e6 ? Number(bytes / 1e6, 1) + " MB" : Number(bytes / 1e3, 0) + " KB";
}
