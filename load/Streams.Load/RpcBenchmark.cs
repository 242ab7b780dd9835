using System.Diagnostics;

namespace Streams.Load;

/// <summary><c>streams-load rpc</c>: every workload over our gRPC stack and over raw HTTP/2 against the same server.</summary>
internal static class RpcBenchmark
{
    public static async Task<int> RunAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        var machine = MachineInfo.Describe();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        List<ScenarioResult> results = [];
        var cancelled = false;
        var serverInProcess = !settings.ServerProcess;
        try
        {
            await using var server = await BenchmarkServer.StartAsync(settings.ServerProcess, cancellationToken).ConfigureAwait(false);
            serverInProcess = server.InProcess;
            Session.Progress($"server on {server.Address} ({(server.InProcess ? "in this process" : "child process")}); {settings.Runs} run(s) × {DurationText.Format(settings.Duration)} per measurement, {DurationText.Format(settings.Warmup)} warm-up");
            using var grpc = new GrpcTransport(server.Address, settings);
            using var raw = new RawTransport(server.Address, settings);
            var session = new Session(settings, [grpc, raw]);
            await session.RunAsync(Scenario.All(settings), cancellationToken).ConfigureAwait(false);
            results = [.. session.Results.Select(r => new ScenarioResult(r.Scenario, r.Measurements[0], r.Measurements[1]))];
            cancelled = session.Cancelled;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true; // Cancelled while the server was starting: nothing was measured.
        }

        var report = new Report(machine, settings, started, clock.Elapsed, serverInProcess, results, cancelled);
        Console.Out.Write(report.ToText());
        Console.Out.Flush();
        if (settings.MarkdownFile is { } markdown)
        {
            await File.WriteAllTextAsync(markdown.FullName, report.ToMarkdown(), CancellationToken.None).ConfigureAwait(false);
            Session.Progress($"wrote {markdown.FullName}");
        }

        if (settings.JsonFile is { } json)
        {
            await File.WriteAllBytesAsync(json.FullName, report.ToJson(), CancellationToken.None).ConfigureAwait(false);
            Session.Progress($"wrote {json.FullName}");
        }

        return cancelled ? 130 : report.AllErrors > 0 ? 1 : 0;
    }
}
