using System.Globalization;

namespace Streams.Load.Raft;

/// <summary>The results of <c>streams-load raft</c> as aligned text tables and Markdown.</summary>
internal sealed class RaftReport(
    RaftSettings settings, MachineInfo machine, DateTimeOffset started, TimeSpan took, bool cancelled,
    Dictionary<RaftBenchmark.Key, RaftBenchmark.Measured> results, Dictionary<(bool Fsync, int EntriesPerSave), List<BaselineRun>> baselines)
{
    private static readonly CultureInfo _invariant = CultureInfo.InvariantCulture;

    public long Errors => results.Values.Sum(m => m.Errors.Count);

    public string ToText() => Document().ToText();

    public string ToMarkdown() => Document().ToMarkdown("Streams.Raft benchmark", footerAsCode: false);

    private ReportDocument Document() => new(HeaderLines(), Tables(), FooterLines());

    private List<string> HeaderLines()
    {
        var group = BenchCluster.GroupOptions;
        var tick = BenchCluster.HostOptions.TickInterval;
        var concurrency = string.Join(", ", settings.Concurrency);
        return
        [
            "Streams.Raft benchmark (streams-load raft): commits of a 3-node cluster in one process",
            $"machine:   {machine.Cores} logical cores ({machine.Cpu}), {machine.OperatingSystem}, {machine.Runtime}, GC: {machine.Gc}",
            $"date:      {started.ToString("yyyy-MM-dd HH:mm:ss'Z'", _invariant)}, took {took.TotalSeconds.ToString("0", _invariant)} s{(cancelled ? " (CANCELLED before the end: partial results)" : string.Empty)}",
            string.Create(_invariant, $"cluster:   3 nodes in this process, each a RaftHost with group 1 (voters 1, 2, 3), a FileRaftLog in its own temporary directory (deleted afterwards) and a state machine that counts entries; tick {tick.TotalMilliseconds:0} ms (heartbeat every {group.HeartbeatTimeoutTicks} tick, election after {group.ElectionTimeoutTicks}–{2 * group.ElectionTimeoutTicks}); a snapshot every {group.SnapshotEveryEntries:N0} applied entries, rare beside the commits (column 'snapshots')"),
            "transport: rpc = RpcRaftTransport, gRPC over h2c on 127.0.0.1, one Kestrel server per node; memory = InMemoryRaftNetwork, messages handed over as objects (no socket, no serialization)",
            $"load:      c callers (c = {concurrency}) in a closed loop at the leader, each proposing a {settings.EntryBytes} B entry and awaiting ProposeAsync (committed by a majority and applied at the leader) before its next; latency from the call to its completion, per call (Stopwatch), nearest rank",
            string.Create(_invariant, $"method:    per fsync setting, one cluster per transport, all started together; per c, a {DurationText.Format(settings.Warmup)} warm-up of each, then {settings.Runs} round(s) of: a lone-log run ({DurationText.Format(settings.BaselineDuration)}: one writer saving c entries per FileRaftLog.SaveAsync to a fresh log on the same disk) then a {DurationText.Format(settings.Duration)} run of each cluster, order rotating; each figure is the median of its runs, each ratio the median of its rounds' ratios"),
            "cost:      CPU % is the whole process (3 nodes and the callers) as a share of all cores; B/commit is bytes allocated by the whole process per commit",
            Errors == 0 && !cancelled
                ? "status:    OK, no failed proposal"
                : $"status:    {(cancelled ? "CANCELLED; " : string.Empty)}{(Errors > 0 ? $"{Errors} FAILED proposals (leadership changed; details below): the figures are suspect" : "no failed proposal")}",
        ];
    }

    private List<string> FooterLines()
    {
        var lines = new List<string>
        {
            "÷ lone log: commits/s over the lone writer's entries/s with c entries per save, in the same round (c = 1: over the fsyncs/s of one writer).",
            "leader saves/s: SaveAsync calls that wrote (with fsync on, fsyncs); entries/save: entries per leader save that carried entries (the group-commit factor);",
            "commit-only: leader saves holding only a hard state (a new commit index), a write but no fsync (FileRaftLog leaves a lone commit index to the next fsync); in save: share of the run a node's loop spent in SaveAsync.",
        };
        foreach (var (key, measured) in results.OrderBy(r => r.Key.Fsync ? 0 : 1).ThenBy(r => r.Key.Transport).ThenBy(r => r.Key.Concurrency))
        {
            foreach (var (kind, count) in measured.Errors.Kinds)
            {
                lines.Add($"ERROR {Name(key)}: {count} × {kind}");
            }
        }

        return lines;
    }

    private List<(string Title, ReportTable Table)> Tables()
    {
        var keys = results.Keys.Where(k => results[k].Runs.Count > 0).OrderBy(k => k.Fsync ? 0 : 1).ThenBy(k => k.Transport).ThenBy(k => k.Concurrency).ToList();
        var both = settings.Transports.Count > 1;
        List<string> header = ["fsync", "transport", "c", "commits/s", "min–max", "p50 µs", "p99 µs", "max µs", "÷ lone log"];
        if (both)
        {
            header.Add("rpc/memory");
        }

        header.AddRange(["CPU %", "B/commit", "errors"]);
        var commits = new ReportTable([.. header], [.. header.Select((_, i) => i > 1)]);
        string[] timeHeader = ["fsync", "transport", "c", "leader saves/s", "entries/save", "commit-only", "follower saves/s", "leader in save", "follower in save", "snapshots"];
        var time = new ReportTable(timeHeader, [.. timeHeader.Select((_, i) => i > 1)]);
        foreach (var key in keys)
        {
            var measured = results[key];
            var runs = measured.Runs;
            var rate = Median(runs, r => r.CommitsPerSecond);
            List<string> row =
            [
                Fsync(key.Fsync), Transport(key.Transport), Integer(key.Concurrency),
                Integer(rate),
                $"{Integer(runs.Min(r => r.CommitsPerSecond))}–{Integer(runs.Max(r => r.CommitsPerSecond))}",
                Integer(Median(runs, r => r.P50Micros)),
                Integer(Median(runs, r => r.P99Micros)),
                Integer(Median(runs, r => r.MaxMicros)),
                Ratio(measured.DiskRatios),
            ];
            if (both)
            {
                row.Add(Ratio(measured.RpcToMemory));
            }

            row.AddRange([Integer(Median(runs, r => r.CpuPercent)), Integer(Median(runs, r => r.AllocatedBytesPerCommit)), Integer(runs.Sum(r => r.Errors))]);
            commits.Rows.Add([.. row]);
            time.Rows.Add(
            [
                Fsync(key.Fsync), Transport(key.Transport), Integer(key.Concurrency),
                Integer(Median(runs, r => r.LeaderSavesPerSecond)),
                Median(runs, r => r.EntriesPerLeaderSave).ToString("0.0", _invariant),
                Percent(Median(runs, r => r.LeaderHardStateOnlyShare)),
                Integer(Median(runs, r => r.FollowerSavesPerSecond)),
                Percent(Median(runs, r => r.LeaderSaveBusy)),
                Percent(Median(runs, r => r.FollowerSaveBusy)),
                Integer(runs.Sum(r => r.Compactions)),
            ]);
        }

        string[] diskHeader = ["fsync", "entries/save", "saves/s", "entries/s", "save p50 µs", "save p99 µs"];
        var disk = new ReportTable(diskHeader, [.. diskHeader.Select((_, i) => i > 0)]);
        foreach (var ((fsync, entriesPerSave), runs) in baselines.Where(b => b.Value.Count > 0).OrderBy(b => b.Key.Fsync ? 0 : 1).ThenBy(b => b.Key.EntriesPerSave))
        {
            disk.Rows.Add(
            [
                Fsync(fsync), Integer(entriesPerSave),
                Integer(Median(runs, r => r.SavesPerSecond)),
                Integer(Median(runs, r => r.EntriesPerSecond)),
                Integer(Median(runs, r => r.P50Micros)),
                Integer(Median(runs, r => r.P99Micros)),
            ]);
        }

        return
        [
            ("Commits (medians of the runs):", commits),
            ("Where the time goes (medians of the runs):", time),
            ("Lone log, the baseline: one writer, FileRaftLog.SaveAsync back to back (medians of the runs):", disk),
        ];
    }

    private static double Median<T>(List<T> runs, Func<T, double> figure) => runs.Select(figure).Order().ElementAt(runs.Count / 2);

    private static string Ratio(List<double> ratios) => ratios.Count == 0 ? string.Empty : ratios.Order().ElementAt(ratios.Count / 2).ToString("0.00", _invariant);

    private static string Integer(double value) => double.IsFinite(value) ? value.ToString("#,0", _invariant) : "-";

    private static string Percent(double share) => (share * 100).ToString("0", _invariant) + " %";

    private static string Fsync(bool fsync) => fsync ? "on" : "off";

    private static string Transport(ClusterTransport transport) => transport == ClusterTransport.Rpc ? "rpc" : "memory";

    private static string Name(RaftBenchmark.Key key) => $"fsync {Fsync(key.Fsync)}, {Transport(key.Transport)}, c={key.Concurrency}";
}
