namespace Streams.Load;

internal enum ScenarioKind
{
    Unary,
    Stream,
}

/// <summary>One workload, measured over both transports.</summary>
/// <param name="Key">A stable identifier for JSON.</param>
/// <param name="Title">The label in the tables.</param>
/// <param name="Kind">Unary calls or server streams.</param>
/// <param name="Concurrency">Concurrent callers (unary) or streams (streaming).</param>
/// <param name="MessageSize">Payload bytes per message (streaming) or per request and response (unary).</param>
/// <param name="MessagesPerStream">How many messages a stream asks for before the next one starts (streaming).</param>
internal sealed record Scenario(string Key, string Title, ScenarioKind Kind, int Concurrency, int MessageSize, int MessagesPerStream)
{
    public static IReadOnlyList<Scenario> All(LoadSettings settings)
    {
        var small = 100;
        var large = 64 * 1024;
        return
        [
            new("unary-c1", "unary c=1", ScenarioKind.Unary, 1, settings.UnaryPayloadBytes, 0),
            new($"unary-c{settings.HighConcurrency}", $"unary c={settings.HighConcurrency}", ScenarioKind.Unary, settings.HighConcurrency, settings.UnaryPayloadBytes, 0),
            new("stream-100B", "stream 100 B", ScenarioKind.Stream, settings.StreamConcurrency, small, (int)(settings.BytesPerStream / small)),
            new("stream-64KiB", "stream 64 KiB", ScenarioKind.Stream, settings.StreamConcurrency, large, (int)(settings.BytesPerStream / large)),
        ];
    }

    /// <summary>The figures this workload reports, each read from a run.</summary>
    public IReadOnlyList<FigureDefinition> Figures => Kind == ScenarioKind.Unary
        ?
        [
            new("calls/s", "calls_per_second", r => r.Rate, HigherIsBetter: true, Decimals: 0),
            new("p50 µs", "p50_us", r => r.P50Micros, HigherIsBetter: false, Decimals: 1),
            new("p99 µs", "p99_us", r => r.P99Micros, HigherIsBetter: false, Decimals: 1),
            new("CPU µs/call", "cpu_us_per_call", r => r.CpuMicrosPerOp, HigherIsBetter: false, Decimals: 1),
            new("alloc B/call", "allocated_bytes_per_call", r => r.AllocatedBytesPerOp, HigherIsBetter: false, Decimals: 0),
        ]
        :
        [
            new("msg/s", "messages_per_second", r => r.Rate, HigherIsBetter: true, Decimals: 0),
            new("MB/s", "megabytes_per_second", r => r.MegabytesPerSecond, HigherIsBetter: true, Decimals: 1),
            new("CPU µs/msg", "cpu_us_per_message", r => r.CpuMicrosPerOp, HigherIsBetter: false, Decimals: 2),
            new("alloc B/msg", "allocated_bytes_per_message", r => r.AllocatedBytesPerOp, HigherIsBetter: false, Decimals: 0),
        ];
}

/// <summary>A reported number: its label, its JSON name, how to read it from a run, and which way is better.</summary>
internal sealed record FigureDefinition(string Label, string JsonName, Func<RunResult, double> Read, bool HigherIsBetter, int Decimals);

/// <summary>The runs of one workload over one transport.</summary>
internal sealed class Measurement(string transport)
{
    public string Transport { get; } = transport;

    public List<RunResult> Runs { get; } = [];

    /// <summary>Failures in the warm-up and in the runs.</summary>
    public ErrorLog Errors { get; } = new();

    public long MeasuredErrors => Runs.Sum(r => r.Errors);

    public Summary Summarize(FigureDefinition figure) => Summary.Of(Runs.Select(figure.Read));
}

/// <summary>Median, minimum and maximum of one figure over the runs; <see cref="Values"/> in run order.</summary>
internal readonly record struct Summary(double Median, double Min, double Max, IReadOnlyList<double> Values)
{
    public static Summary Of(IEnumerable<double> values)
    {
        var inOrder = values.ToArray();
        var sorted = inOrder.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Summary(double.NaN, double.NaN, double.NaN, inOrder);
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Summary(median, sorted[0], sorted[^1], inOrder);
    }
}

/// <summary>A workload's measurements over gRPC and over raw HTTP/2.</summary>
internal sealed record ScenarioResult(Scenario Scenario, Measurement Grpc, Measurement Raw)
{
    /// <summary>gRPC median divided by raw median.</summary>
    public static double Ratio(Summary grpc, Summary raw) => raw.Median > 0 ? grpc.Median / raw.Median : double.NaN;
}
