using System.Globalization;
using System.Text;
using Streams.Rpc.Interop;

namespace Streams.Load;

/// <summary>
/// <c>streams-load rpc-breakdown</c>: where the gRPC/raw gap comes from. Every workload runs with
/// each side of Streams.Rpc replaced in turn by a hand-written gRPC peer that costs almost nothing:
/// ours→ours (the real thing), hand→ours (our server alone), ours→hand (our client alone),
/// hand→hand (the gRPC wire protocol with no library), raw→raw (no gRPC at all).
/// </summary>
internal static class Breakdown
{
    public static async Task<int> RunAsync(LoadSettings settings, string? only, CancellationToken cancellationToken)
    {
        var machine = MachineInfo.Describe();
        await using var server = await BenchmarkServer.StartAsync(settings.ServerProcess, cancellationToken).ConfigureAwait(false);
        var address = server.Address;
        using var ours = new GrpcTransport(address, settings, "ours→ours", InteropMethods.Unary, InteropMethods.ServerStream);
        using var handToOurs = new HandFramedGrpcTransport(address, settings, "hand→ours", InteropMethods.Unary.Path, InteropMethods.ServerStream.Path);
        using var oursToHand = new GrpcTransport(address, settings, "ours→hand", HandFramedGrpc.Unary, HandFramedGrpc.ServerStream);
        using var hand = new HandFramedGrpcTransport(address, settings, "hand→hand", HandFramedGrpc.UnaryPath, HandFramedGrpc.StreamPath);
        using var raw = new RawTransport(address, settings);
        Transport[] transports = [ours, handToOurs, oursToHand, hand, raw];
        var scenarios = Scenario.All(settings).Where(s => only is null || s.Key.Contains(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        var session = new Session(settings, transports);
        await session.RunAsync(scenarios, cancellationToken).ConfigureAwait(false);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"rpc-breakdown: {machine.Cores} cores, {machine.Runtime}, {(server.InProcess ? "client and server in one process" : "server in a child process")}, {settings.Runs} run(s) of {DurationText.Format(settings.Duration)}, medians\n");
        text.Append("ours = Streams.Rpc (RpcChannel client / UseStreamsRpc server + Interop service); hand = gRPC framing written by hand (pre-encoded request, frames counted not parsed / pre-framed responses, no protobuf objects); raw = no gRPC\n");
        text.Append("CPU and allocation are per call or message, for the whole process\n\n");
        text.Append(CultureInfo.InvariantCulture, $"{"scenario",-14}  {"client→server",-13}  {"rate/s",12}  {"vs raw",6}  {"CPU µs/op",9}  {"alloc B/op",10}  {"errors",6}\n");
        foreach (var (scenario, measurements) in session.Results)
        {
            var rawRate = measurements[^1].Summarize(scenario.Figures[0]).Median;
            for (var i = 0; i < measurements.Length; i++)
            {
                var m = measurements[i];
                var rate = Summary.Of(m.Runs.Select(r => r.Rate)).Median;
                var cpu = Summary.Of(m.Runs.Select(r => r.CpuMicrosPerOp)).Median;
                var allocated = Summary.Of(m.Runs.Select(r => r.AllocatedBytesPerOp)).Median;
                text.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? scenario.Title : string.Empty),-14}  {m.Transport,-13}  {rate,12:N0}  {rate / rawRate,6:N2}  {cpu,9:N2}  {allocated,10:N0}  {m.Errors.Count,6}\n");
            }
        }

        Console.Out.Write(text.ToString());
        return session.Cancelled ? 130 : session.Results.Any(r => r.Measurements.Any(m => m.Errors.Count > 0)) ? 1 : 0;
    }
}
