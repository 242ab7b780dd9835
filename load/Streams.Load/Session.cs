using System.Globalization;

namespace Streams.Load;

/// <summary>
/// Runs every scenario over several transports: first a warm-up pass over everything (so that the
/// JIT has tiered up every path before anything is measured), then per scenario a short re-warm of
/// each transport and the runs, interleaved and in rotating order so a drifting machine favours none.
/// </summary>
internal sealed class Session(LoadSettings settings, IReadOnlyList<Transport> transports)
{
    /// <summary>The re-warm of a transport right before its scenario's runs (connection windows, pools).</summary>
    private static readonly TimeSpan _rewarm = TimeSpan.FromSeconds(0.5);

    public List<(Scenario Scenario, Measurement[] Measurements)> Results { get; } = [];

    public bool Cancelled { get; private set; }

    public async Task RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken cancellationToken)
    {
        var recorders = new LatencyRecorder[scenarios.Max(s => s.Concurrency)];
        for (var i = 0; i < recorders.Length; i++)
        {
            recorders[i] = new LatencyRecorder();
        }

        var merger = new LatencyMerger();
        var measurements = scenarios.Select(_ => transports.Select(t => new Measurement(t.Name)).ToArray()).ToArray();
        var current = -1;
        try
        {
            for (var s = 0; s < scenarios.Count; s++)
            {
                for (var t = 0; t < transports.Count; t++)
                {
                    await SettleAsync(cancellationToken).ConfigureAwait(false);
                    var warm = await MeasureAsync(scenarios[s], transports[t], settings.Warmup, recorders, merger, measurements[s][t].Errors, cancellationToken).ConfigureAwait(false);
                    Progress($"{scenarios[s].Title,-14} warm-up   {transports[t].Name,-12} {Describe(scenarios[s], warm)}");
                }
            }

            for (var s = 0; s < scenarios.Count; s++)
            {
                current = s;
                var scenario = scenarios[s];
                for (var t = 0; t < transports.Count; t++)
                {
                    await SettleAsync(cancellationToken).ConfigureAwait(false);
                    await MeasureAsync(scenario, transports[t], settings.Warmup < _rewarm ? settings.Warmup : _rewarm, recorders, merger, measurements[s][t].Errors, cancellationToken).ConfigureAwait(false);
                }

                for (var run = 0; run < settings.Runs; run++)
                {
                    for (var k = 0; k < transports.Count; k++)
                    {
                        // Rotate which transport goes first from run to run.
                        var t = (k + run) % transports.Count;
                        await SettleAsync(cancellationToken).ConfigureAwait(false);
                        var outcome = await MeasureAsync(scenario, transports[t], settings.Duration, recorders, merger, measurements[s][t].Errors, cancellationToken).ConfigureAwait(false);
                        measurements[s][t].Runs.Add(outcome);
                        Progress($"{scenario.Title,-14} run {run + 1}/{settings.Runs}   {transports[t].Name,-12} {Describe(scenario, outcome)}");
                    }
                }

                Results.Add((scenario, measurements[s]));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Cancelled = true;
            if (current >= 0 && measurements[current].Any(m => m.Runs.Count > 0) && (Results.Count == 0 || Results[^1].Scenario != scenarios[current]))
            {
                Results.Add((scenarios[current], measurements[current])); // The runs it had finished.
            }

            Progress("cancelled: reporting what was measured so far");
        }
    }

    public static void Progress(string line) => Console.Error.WriteLine(line);

    private static Task<RunResult> MeasureAsync(Scenario scenario, Transport transport, TimeSpan duration, LatencyRecorder[] recorders, LatencyMerger merger, ErrorLog errors, CancellationToken cancellationToken) =>
        scenario.Kind == ScenarioKind.Unary
            ? Runner.UnaryAsync(transport, scenario.Concurrency, duration, recorders, merger, errors, cancellationToken)
            : Runner.StreamAsync(transport, scenario.Concurrency, scenario.MessageSize, scenario.MessagesPerStream, duration, errors, cancellationToken);

    /// <summary>Lets the streams cancelled at the end of the previous run wind down, and starts every run with a clean heap.</summary>
    private static async Task SettleAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }

    private static string Describe(Scenario scenario, RunResult run)
    {
        var errors = run.Errors > 0 ? string.Create(CultureInfo.InvariantCulture, $", {run.Errors} ERRORS") : string.Empty;
        return scenario.Kind == ScenarioKind.Unary
            ? string.Create(CultureInfo.InvariantCulture, $"{run.Rate,10:N0} calls/s  p50 {run.P50Micros,8:N1} µs  p99 {run.P99Micros,8:N1} µs  CPU {run.CpuMicrosPerOp,7:N1} µs/call  {run.AllocatedBytesPerOp,8:N0} B/call{errors}")
            : string.Create(CultureInfo.InvariantCulture, $"{run.Rate,10:N0} msg/s    {run.MegabytesPerSecond,8:N1} MB/s  CPU {run.CpuMicrosPerOp,7:N2} µs/msg  {run.AllocatedBytesPerOp,8:N0} B/msg{errors}");
    }
}
