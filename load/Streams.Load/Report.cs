using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Streams.Load;

/// <summary>The results of <c>streams-load rpc</c> as an aligned text table, Markdown and JSON.</summary>
internal sealed class Report(MachineInfo machine, LoadSettings settings, DateTimeOffset started, TimeSpan took, bool serverInProcess, IReadOnlyList<ScenarioResult> results, bool cancelled)
{
    private static readonly CultureInfo _invariant = CultureInfo.InvariantCulture;

    public long MeasuredErrors => results.Sum(r => r.Grpc.MeasuredErrors + r.Raw.MeasuredErrors);

    public long AllErrors => results.Sum(r => r.Grpc.Errors.Count + r.Raw.Errors.Count);

    private static readonly string[] _columns = ["figure", "gRPC", "gRPC min–max", "raw", "raw min–max", "gRPC/raw", "errors gRPC/raw"];

    public IReadOnlyList<string> HeaderLines()
    {
        var lines = new List<string>
        {
            "Streams.Rpc load benchmark (streams-load rpc): our gRPC stack vs raw Kestrel HTTP/2 on the same server",
            $"machine:   {machine.Cores} logical cores ({machine.Cpu}), {machine.OperatingSystem}, {machine.RuntimeIdentifier}, {machine.Runtime}, GC: {machine.Gc}",
            $"date:      {started.ToString("yyyy-MM-dd HH:mm:ss'Z'", _invariant)}, took {took.TotalSeconds.ToString("0", _invariant)} s{(cancelled ? " (CANCELLED before the end: partial results)" : string.Empty)}",
            $"method:    closed loop; a warm-up pass runs every measurement for {DurationText.Format(settings.Warmup)} (excluded), then each measurement gets a {DurationText.Format(settings.Warmup < TimeSpan.FromSeconds(0.5) ? settings.Warmup : TimeSpan.FromSeconds(0.5))} re-warm and {settings.Runs} run(s) of {DurationText.Format(settings.Duration)}, gRPC and raw interleaved in alternating order; median of the runs reported, min–max beside it",
            "cost:      CPU µs and allocated bytes per call/message are for the whole process (client + server when in one process), from Process.TotalProcessorTime and GC.GetTotalAllocatedBytes",
            serverInProcess
                ? $"topology:  server and client in ONE process (they share its {machine.Cores} cores, GC and thread pool); h2c on 127.0.0.1; gRPC and raw each over their own HTTP/2 connection"
                : "topology:  server in a CHILD process (--server-process), client in this one; h2c on 127.0.0.1; gRPC and raw each over their own HTTP/2 connection",
            $"unary:     {settings.UnaryPayloadBytes} B payload each way (Interop/Unary EchoRequest.payload echoed; raw: POST {RawEndpoints.UnaryPath} echoes the body); c={settings.HighConcurrency}: {settings.HighConcurrency} callers over one RpcChannel / one HttpMessageInvoker; deadline {DurationText.Format(settings.UnaryDeadline)} per call; latency from per-call Stopwatch durations",
            $"streaming: {settings.StreamConcurrency} stream(s) at a time, each asking for {settings.BytesPerStream / (1024 * 1024)} MiB in 100 B or 64 KiB messages (Interop/ServerStream response_count/response_size; raw: POST {RawEndpoints.StreamPath} writes and flushes one chunk per message); payload bytes counted at the client; MB = 10^6 B; deadline {DurationText.Format(settings.StreamDeadline)} per stream",
            "ratio:     gRPC/raw = gRPC median / raw median: for calls/s, msg/s and MB/s below 1 means gRPC is slower; for latency, CPU and allocation above 1 means gRPC costs more",
            AllErrors == 0 && !cancelled
                ? "status:    OK, no failed call or stream"
                : $"status:    {(cancelled ? "CANCELLED; " : string.Empty)}{(AllErrors > 0 ? $"{AllErrors} FAILED calls/streams (details below the table)" : "no failed call or stream")}",
        };
        return lines;
    }

    public IReadOnlyList<string> StatusLines()
    {
        var lines = new List<string>();
        if (cancelled)
        {
            lines.Add("CANCELLED: the run was interrupted; only the measurements shown were completed.");
        }

        if (AllErrors == 0)
        {
            lines.Add("errors:    none (every call and stream in warm-ups and runs succeeded)");
            return lines;
        }

        lines.Add($"ERRORS:    {MeasuredErrors} failed call(s)/stream(s) in measured runs, {AllErrors} in all (warm-ups included): the figures above are suspect");
        foreach (var result in results)
        {
            foreach (var measurement in new[] { result.Grpc, result.Raw })
            {
                foreach (var (kind, count) in measurement.Errors.Kinds)
                {
                    lines.Add($"  {result.Scenario.Title} over {measurement.Transport}: {count} × {kind}");
                }
            }
        }

        return lines;
    }

    public string ToText()
    {
        var rows = Rows();
        var widths = new int[_columns.Length];
        foreach (var row in rows.Prepend(_columns))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var text = new StringBuilder();
        foreach (var line in HeaderLines())
        {
            text.Append(line).Append('\n');
        }

        text.Append('\n');
        AppendRow(text, _columns, widths);
        AppendRow(text, [.. widths.Select(w => new string('-', w))], widths);
        string? previous = null;
        foreach (var row in rows)
        {
            var scenario = row[0].Split(':')[0];
            if (previous is not null && scenario != previous)
            {
                text.Append('\n');
            }

            previous = scenario;
            AppendRow(text, row, widths);
        }

        text.Append('\n');
        foreach (var line in StatusLines())
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("# Streams.Rpc load benchmark\n\n");
        foreach (var line in HeaderLines().Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            text.Append("- **").Append(line[..colon]).Append("**: ").Append(line[(colon + 1)..].Trim()).Append('\n');
        }

        text.Append('\n');
        text.Append("| ").AppendJoin(" | ", _columns).Append(" |\n");
        text.Append("| --- |").Append(string.Concat(Enumerable.Repeat(" ---: |", _columns.Length - 1))).Append('\n');
        foreach (var row in Rows())
        {
            text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }

        text.Append('\n');
        foreach (var line in StatusLines())
        {
            text.Append(line.StartsWith("  ", StringComparison.Ordinal) ? "- " + line.Trim() : line).Append("\n\n");
        }

        return text.ToString();
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("benchmark", "streams-load rpc");
            json.WriteString("date", started);
            json.WriteNumber("took_seconds", Math.Round(took.TotalSeconds, 1));
            json.WriteBoolean("cancelled", cancelled);
            json.WriteStartObject("machine");
            json.WriteNumber("cores", machine.Cores);
            json.WriteString("cpu", machine.Cpu);
            json.WriteString("os", machine.OperatingSystem);
            json.WriteString("rid", machine.RuntimeIdentifier);
            json.WriteString("runtime", machine.Runtime);
            json.WriteString("gc", machine.Gc);
            json.WriteEndObject();
            json.WriteStartObject("config");
            json.WriteNumber("duration_seconds", settings.Duration.TotalSeconds);
            json.WriteNumber("warmup_seconds", settings.Warmup.TotalSeconds);
            json.WriteNumber("runs", settings.Runs);
            json.WriteBoolean("server_in_process", serverInProcess);
            json.WriteNumber("unary_payload_bytes", settings.UnaryPayloadBytes);
            json.WriteNumber("stream_concurrency", settings.StreamConcurrency);
            json.WriteNumber("bytes_per_stream", settings.BytesPerStream);
            json.WriteNumber("unary_deadline_seconds", settings.UnaryDeadline.TotalSeconds);
            json.WriteNumber("stream_deadline_seconds", settings.StreamDeadline.TotalSeconds);
            json.WriteString("ratio", "grpc median / raw median");
            json.WriteString("megabyte", "10^6 bytes of payload");
            json.WriteEndObject();
            json.WriteNumber("errors_in_runs", MeasuredErrors);
            json.WriteNumber("errors_total", AllErrors);
            json.WriteStartArray("scenarios");
            foreach (var result in results)
            {
                var scenario = result.Scenario;
                json.WriteStartObject();
                json.WriteString("key", scenario.Key);
                json.WriteString("title", scenario.Title);
                json.WriteString("kind", scenario.Kind == ScenarioKind.Unary ? "unary" : "server_streaming");
                json.WriteNumber("concurrency", scenario.Concurrency);
                json.WriteNumber("message_bytes", scenario.MessageSize);
                json.WriteStartObject("figures");
                foreach (var figure in scenario.Figures)
                {
                    var grpc = result.Grpc.Summarize(figure);
                    var raw = result.Raw.Summarize(figure);
                    json.WriteStartObject(figure.JsonName);
                    json.WriteBoolean("higher_is_better", figure.HigherIsBetter);
                    WriteSummary(json, "grpc", grpc);
                    WriteSummary(json, "raw", raw);
                    WriteNumber(json, "ratio", ScenarioResult.Ratio(grpc, raw));
                    json.WriteEndObject();
                }

                json.WriteEndObject();
                foreach (var measurement in new[] { result.Grpc, result.Raw })
                {
                    json.WriteStartObject(measurement.Transport == "gRPC" ? "grpc_runs" : "raw_runs");
                    json.WriteStartArray("completed");
                    foreach (var run in measurement.Runs)
                    {
                        json.WriteNumberValue(run.Completed);
                    }

                    json.WriteEndArray();
                    json.WriteStartArray("elapsed_seconds");
                    foreach (var run in measurement.Runs)
                    {
                        json.WriteNumberValue(Math.Round(run.Elapsed.TotalSeconds, 3));
                    }

                    json.WriteEndArray();
                    json.WriteNumber("errors_in_runs", measurement.MeasuredErrors);
                    json.WriteNumber("errors_total", measurement.Errors.Count);
                    json.WriteStartArray("error_kinds");
                    foreach (var (kind, count) in measurement.Errors.Kinds)
                    {
                        json.WriteStartObject();
                        json.WriteString("error", kind);
                        json.WriteNumber("count", count);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private List<string[]> Rows()
    {
        var rows = new List<string[]>();
        foreach (var result in results)
        {
            var first = true;
            foreach (var figure in result.Scenario.Figures)
            {
                var grpc = result.Grpc.Summarize(figure);
                var raw = result.Raw.Summarize(figure);
                rows.Add(
                [
                    $"{result.Scenario.Title}: {figure.Label}",
                    Number(grpc.Median, figure.Decimals),
                    Spread(grpc, figure.Decimals),
                    Number(raw.Median, figure.Decimals),
                    Spread(raw, figure.Decimals),
                    Number(ScenarioResult.Ratio(grpc, raw), 2),
                    first ? $"{result.Grpc.MeasuredErrors}/{result.Raw.MeasuredErrors}" : string.Empty,
                ]);
                first = false;
            }
        }

        return rows;
    }

    private static void AppendRow(StringBuilder text, string[] row, int[] widths)
    {
        for (var i = 0; i < row.Length; i++)
        {
            if (i > 0)
            {
                text.Append("  ");
            }

            text.Append(i == 0 ? row[i].PadRight(widths[i]) : row[i].PadLeft(widths[i]));
        }

        text.Append('\n');
    }

    private static string Number(double value, int decimals) =>
        double.IsNaN(value) || double.IsInfinity(value) ? "n/a" : value.ToString("N" + decimals.ToString(_invariant), _invariant);

    private static string Spread(Summary summary, int decimals) =>
        double.IsNaN(summary.Median) ? "n/a" : $"{Number(summary.Min, decimals)}–{Number(summary.Max, decimals)}";

    private static void WriteSummary(Utf8JsonWriter json, string name, Summary summary)
    {
        json.WriteStartObject(name);
        WriteNumber(json, "median", summary.Median);
        WriteNumber(json, "min", summary.Min);
        WriteNumber(json, "max", summary.Max);
        json.WriteStartArray("runs");
        foreach (var value in summary.Values)
        {
            if (double.IsFinite(value))
            {
                json.WriteNumberValue(Math.Round(value, 3));
            }
            else
            {
                json.WriteNullValue();
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, 3));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
