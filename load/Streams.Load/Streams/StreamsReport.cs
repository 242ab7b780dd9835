using System.Globalization;
using static Streams.Load.ClusterBench.ClusterReport;

namespace Streams.Load.ClusterBench;

/// <summary>The results of <c>streams-load streams</c> as aligned text tables and Markdown.</summary>
internal sealed class StreamsReport(StreamsSettings settings, MachineInfo machine, DateTimeOffset started, StreamsBenchmark.Outcome outcome)
{
    private static readonly CultureInfo _invariant = CultureInfo.InvariantCulture;

    public string ToText() => Document().ToText();

    public string ToMarkdown() => Document().ToMarkdown("Streams cluster benchmark", footerAsCode: true);

    private ReportDocument Document() => new(HeaderLines(), Tables(), FooterLines());

    private List<string> HeaderLines()
    {
        var bench = outcome.Bench;
        var nodes = settings.Nodes;
        var shards = settings.Shards;
        var inFlight = settings.InFlight;
        var anyWindows = string.Join("+", Enumerable.Range(0, nodes).Select(s => ThroughputLoad.Window(inFlight, nodes, s)));
        var leaderWindows = string.Join("+", Enumerable.Range(0, shards).Select(s => ThroughputLoad.Window(inFlight, shards, s)));
        var command = outcome.Nodes.Count > 0
            ? "dotnet Streams.Server.dll " + outcome.Nodes[0].Arguments
            : "(the nodes did not start)";
        var status = Status(
            outcome,
            failed: "FAILURES: some calls, records or deliveries failed, or a node logged errors (details below): the figures are suspect",
            ok: "OK: no failed call, record or delivery; no node logged an error");
        var lines = new List<string>
        {
            "Streams cluster benchmark (streams-load streams): a 3-node cluster of node processes on this machine",
            $"machine:   {machine.Cores} logical cores ({machine.Cpu}), {machine.OperatingSystem}, {machine.RuntimeIdentifier}, {machine.Runtime}; load generator GC: {machine.Gc}",
            string.Create(_invariant, $"load:      1-minute load average {outcome.LoadBefore:0.00} before the nodes started (other programs: above about 1 they compete for the {machine.Cores} cores and the figures are lower and noisier), {outcome.LoadAfter:0.00} at the end (the benchmark included)"),
            $"date:      {started.ToString("yyyy-MM-dd HH:mm:ss'Z'", _invariant)}, took {outcome.Took.TotalSeconds.ToString("0", _invariant)} s{(settings.Quick ? " (--quick: one short run per figure, a smoke test, not a measurement)" : string.Empty)}",
            $"cluster:   {nodes} child processes `dotnet Streams.Server.dll` (separate processes, not in-process; the node's own runtimeconfig: server GC), on 127.0.0.1 with free ports, each with its own data directory in a temporary directory under {Path.GetTempPath()} (same disk), deleted afterwards; durability {settings.Durability}{(settings.Durability == "always" ? " (fsync before acknowledging, group commit)" : string.Empty)}; other settings the node's defaults (Raft tick 50 ms)",
            $"node:      {command}",
            $"stream:    '{StreamsBenchmark.StreamName}', {shards} shards, replication factor {nodes} (every node holds a replica of every shard); leaders when measuring started: {(bench is null ? "-" : bench.DescribeLeaders(bench.InitialShards))}{LeaderWait()}",
            $"clients:   this process; one RpcChannel (one HTTP/2 connection) per node; call deadline {DurationText.Format(settings.CallDeadline)}",
            $"targets:   any node = caller/stream i sends to node i mod {nodes}, records with partition keys of all shards (the node splits a batch by shard and forwards each part to its shard's leader, one hop); to leader = caller/stream i sends to the leader of shard i mod {shards} (from ListShards `leader`, read again before every run), records of that shard only (one Raft append per batch, nothing forwarded)",
            $"put:       PutRecords, closed loop: {inFlight} concurrent callers, each sending {settings.BatchRecords} records per call and its next call when the previous is answered; the same request per caller every time (random data, random keys chosen once)",
            $"produce:   Produce (bidirectional stream), pipelined: one stream per node (any node) or per shard (to leader), {inFlight} batches in flight in all (window {anyWindows} or {leaderWindows}); a batch of {settings.BatchRecords} records is written as soon as an acknowledgement frees a slot; acks matched by batch_id",
            $"producer:  the SDK's Producer with its default settings (batches of up to 500 records or 1 MiB, linger 5 ms, 32 MiB buffer, idempotent, at most 4 batches in flight per shard), {settings.ProducerCallers} callers each sending {settings.ProducerRecordBytes} B records with random partition keys of every shard as fast as SendAsync takes them (receipts not awaited); the producer routes each record on the client and sends each shard's batches to its leader, over one Produce stream per node (its default transport) or, in the PutRecords row, one PutRecords call per batch; records/s = records acknowledged (the client meter's streams.client.producer.records) / seconds from the first send to the end of the final FlushAsync; batch p50/p99 = send to answer of its batches (streams.client.operation.duration); one client (one HTTP/2 connection per node) for all its runs, a new producer per run",
            $"figures:   records/s = records acknowledged as written / seconds from the first send to the last answer; MB/s = their data bytes (10^6 B; keys and framing not counted); batch p50/p99 = send to answer of each batch; CPU = share of all {machine.Cores} cores used by the 3 nodes together, and by this process",
            string.Create(_invariant, $"latency:   PutRecord, open loop at {settings.Rate:N0} calls/s of {settings.LatencyRecordBytes} B, shards in turn, for {DurationText.Format(settings.LatencyDuration)} per run: call k is due at start + k/rate and sent then, whatever is still unanswered; latency = answer time − due time (so a stall counts for every call it delays: no coordinated omission); send lag = how late the client sent"),
            string.Create(_invariant, $"e2e:       one SubscribeToShard subscriber (starting at LATEST) per shard on its leader, and one on a follower; PutRecord open loop as above ({settings.Rate:N0}/s, any node), each record carrying its send time (Stopwatch, same process); latency = arrival of the event holding it − send time; every acknowledged record is checked to arrive once, in order, within {DurationText.Format(settings.DeliveryGrace)}"),
            $"method:    each measurement warmed up for {DurationText.Format(settings.Warmup)} (not counted), then {settings.Runs} round(s), each running every measurement once in an order rotating from round to round; throughput runs {DurationText.Format(settings.Duration)}, latency runs {DurationText.Format(settings.LatencyDuration)}; before each run a 200 ms pause, a GC in this process, leaders read again; each figure is the median of its runs (min–max beside it)",
            $"status:    {status}",
        };
        return lines;
    }

    private string LeaderWait() => outcome.PreferredLeaderWait switch
    {
        null => " (not waiting for the cluster's leader balancing: leaders may move early on)",
        { } wait when outcome.PreferredLeaders => string.Create(_invariant, $" (each shard's preferred replica, after waiting {wait.TotalSeconds:0.0} s for the cluster's leader balancing)"),
        { } wait => string.Create(_invariant, $" (NOT all on their preferred replicas after waiting {wait.TotalSeconds:0} s for the cluster's leader balancing)"),
    };

    private List<(string Title, ReportTable Table)> Tables()
    {
        var tables = new List<(string, ReportTable)>();
        if (outcome.Throughput.Any(m => m.Runs.Count > 0))
        {
            string[] header = ["workload", "record", "target", "in flight", "records/s", "min–max", "MB/s", "batch p50 ms", "batch p99 ms", "CPU nodes", "CPU client", "failed calls/records"];
            var table = new ReportTable(header, [.. header.Select((_, i) => i > 2)]);
            foreach (var measured in outcome.Throughput.Where(m => m.Runs.Count > 0))
            {
                var runs = measured.ThroughputRuns();
                var inFlight = measured.Workload switch
                {
                    "put" => $"{settings.InFlight} callers",
                    "produce" => $"{ThroughputLoad.Streams(measured.Target, outcome.Bench!)} streams, {settings.InFlight} batches",
                    _ => $"{settings.ProducerCallers} callers, ≤4 batches/shard",
                };
                var sdk = measured.Workload.StartsWith("producer", StringComparison.Ordinal);
                table.Rows.Add(
                [
                    measured.Workload switch { "put" => "PutRecords", "produce" => "Produce", "producer" => "Producer (SDK)", _ => "Producer (SDK, PutRecords)" },
                    sdk ? StreamsBenchmark.Measured.Size(measured.RecordBytes) : $"{StreamsBenchmark.Measured.Size(measured.RecordBytes)} ×{settings.BatchRecords}",
                    sdk ? "to leaders (SDK routes)" : StreamsBenchmark.Measured.TargetName(measured.Target),
                    inFlight,
                    Integer(Median(runs, r => r.RecordsPerSecond)),
                    $"{Integer(runs.Min(r => r.RecordsPerSecond))}–{Integer(runs.Max(r => r.RecordsPerSecond))}",
                    Number(Median(runs, r => r.MegabytesPerSecond), 1),
                    Number(Median(runs, r => r.BatchP50Ms), 1),
                    Number(Median(runs, r => r.BatchP99Ms), 1),
                    Percent(Median(runs, r => r.Cpu.NodesPercent)),
                    Percent(Median(runs, r => r.Cpu.ClientPercent)),
                    $"{runs.Sum(r => r.FailedCalls)}/{runs.Sum(r => r.FailedRecords)}" + (runs.Sum(r => r.Misrouted) is var m and > 0 ? $" ({m} misrouted)" : string.Empty),
                ]);
            }

            tables.Add(("Throughput, closed loop (medians of the runs):", table));
            if (ProducerTable() is { } producer)
            {
                tables.Add(("The SDK's producer beside raw PutRecords of the same record size (medians; ratio = producer records/s ÷ PutRecords records/s):", producer));
            }
        }

        if (outcome.Latency.Any(m => m.Runs.Count > 0))
        {
            string[] header = ["workload", "target", "rate", "sent/s", "p50 ms", "p99 ms", "p99 min–max", "max ms", "send lag p99 ms", "CPU nodes", "CPU client", "failed"];
            var table = new ReportTable(header, [.. header.Select((_, i) => i > 1)]);
            foreach (var measured in outcome.Latency.Where(m => m.Runs.Count > 0))
            {
                var runs = measured.RunsOf<LatencyRun>().ToList();
                table.Rows.Add(
                [
                    $"PutRecord {StreamsBenchmark.Measured.Size(measured.RecordBytes)}",
                    StreamsBenchmark.Measured.TargetName(measured.Target),
                    Integer(settings.Rate) + "/s",
                    Integer(Median(runs, r => r.SentPerSecond)),
                    Number(Median(runs, r => r.P50Ms), 2),
                    Number(Median(runs, r => r.P99Ms), 2),
                    $"{Number(runs.Min(r => r.P99Ms), 2)}–{Number(runs.Max(r => r.P99Ms), 2)}",
                    Number(Median(runs, r => r.MaxMs), 1),
                    Number(Median(runs, r => r.LagP99Ms), 2),
                    Percent(Median(runs, r => r.Cpu.NodesPercent)),
                    Percent(Median(runs, r => r.Cpu.ClientPercent)),
                    Integer(runs.Sum(r => r.Failed)),
                ]);
            }

            tables.Add(("PutRecord latency, open loop from the scheduled send time (medians of the runs):", table));
        }

        if (outcome.Delivery is { } delivery && delivery.Runs.Count > 0)
        {
            var runs = delivery.RunsOf<DeliveryRun>().ToList();
            string[] header = ["latency", "p50 ms", "p99 ms", "p99 min–max", "max ms", "delivered/acked", "out of order"];
            var table = new ReportTable(header, [.. header.Select((_, i) => i > 0)]);
            foreach (var (name, figures) in new (string, Func<DeliveryRun, DeliveryFigures>)[]
            {
                ("put → subscriber on the shard's leader", r => r.Leader),
                ("put → subscriber on a follower", r => r.Follower),
            })
            {
                var values = runs.Select(figures).ToList();
                table.Rows.Add(
                [
                    name,
                    Number(Median(values, f => f.P50Ms), 2),
                    Number(Median(values, f => f.P99Ms), 2),
                    $"{Number(values.Min(f => f.P99Ms), 2)}–{Number(values.Max(f => f.P99Ms), 2)}",
                    Number(Median(values, f => f.MaxMs), 1),
                    $"{values.Sum(f => f.Delivered)}/{values.Sum(f => f.Expected)}",
                    Integer(values.Sum(f => f.OutOfOrder)),
                ]);
            }

            var puts = runs.Select(r => r.Put).ToList();
            table.Rows.Add(
            [
                $"PutRecord call (open loop, {Integer(settings.Rate)}/s, any node; from due time)",
                Number(Median(puts, p => p.P50Ms), 2),
                Number(Median(puts, p => p.P99Ms), 2),
                $"{Number(puts.Min(p => p.P99Ms), 2)}–{Number(puts.Max(p => p.P99Ms), 2)}",
                Number(Median(puts, p => p.MaxMs), 1),
                $"{puts.Sum(p => p.Sent - p.Failed)}/{puts.Sum(p => p.Sent)} answered",
                string.Empty,
            ]);
            tables.Add(("Put to delivery through SubscribeToShard (medians of the runs):", table));
        }

        return tables;
    }

    // The producer's records/s against raw PutRecords of its record size, both targets, with how its batches went.
    private ReportTable? ProducerTable()
    {
        var producers = outcome.Throughput.Where(m => m.Workload.StartsWith("producer", StringComparison.Ordinal) && m.Runs.Count > 0).ToList();
        if (producers.Count == 0)
        {
            return null;
        }

        string[] header = ["producer", "records/s", "PutRecords any node", "ratio", "PutRecords to leader", "ratio", "records/batch", "batches refused out of order", "retried"];
        var table = new ReportTable(header, [.. header.Select((_, i) => i > 0)]);
        foreach (var producer in producers)
        {
            var runs = producer.RunsOf<ProducerRun>().ToList();
            var rate = Median(runs, r => r.Throughput.RecordsPerSecond);
            var cells = new List<string> { producer.Workload == "producer" ? "Produce streams (default)" : "PutRecords calls", Integer(rate) };
            foreach (var target in new[] { Target.AnyNode, Target.Leader })
            {
                var put = outcome.Throughput.FirstOrDefault(m => m.Workload == "put" && m.Target == target && m.RecordBytes == producer.RecordBytes && m.Runs.Count > 0);
                var baseline = put is null ? double.NaN : Median(put.ThroughputRuns(), r => r.RecordsPerSecond);
                cells.Add(Integer(baseline));
                cells.Add(Number(rate / baseline, 2));
            }

            var batches = runs.Sum(r => r.Batches);
            cells.Add(Number(batches == 0 ? double.NaN : runs.Sum(r => r.Throughput.Records) / (double)batches, 0));
            cells.Add($"{Integer(runs.Sum(r => r.OutOfOrder))} of {Integer(batches)}");
            cells.Add(Integer(runs.Sum(r => r.Retried)));
            table.Rows.Add([.. cells]);
        }

        return table;
    }

    private List<string> FooterLines()
    {
        var lines = new List<string>();
        if (outcome.Delivery is not null && outcome.Subscribers.Count > 0)
        {
            lines.Add("subscribers: " + string.Join(", ", outcome.Subscribers.Select(s => $"{s.ShardId} on {s.Node}{(s.ViaLeader ? " (leader)" : string.Empty)}"))
                + (outcome.DeliveryLeadersMoved ? "; a leader MOVED during the e2e runs, so 'leader' and 'follower' may be mixed up" : string.Empty));
        }

        if (outcome.Bench is { } bench)
        {
            lines.Add(bench.LeaderMoves.Count == 0
                ? "leaders:   no shard leader moved during the benchmark (checked before every run)"
                : $"leaders:   {bench.LeaderMoves.Count} shard leader move(s): {string.Join("; ", bench.LeaderMoves)}");
        }

        lines.AddRange(NodeLines(outcome.Nodes));

        foreach (var measured in outcome.All)
        {
            foreach (var (kind, count) in measured.Failures.Kinds)
            {
                lines.Add($"FAILED:    {measured.Title}: {count} × {kind}");
            }
        }

        if (outcome.All.Any(m => m.Failures.Any))
        {
            lines.Add("           (failure counts above include warm-ups; the tables count measured runs only)");
        }

        if (outcome.LogDirectory is { } logs)
        {
            lines.Add($"logs:      node logs kept in {logs}");
        }

        return lines;
    }
}
