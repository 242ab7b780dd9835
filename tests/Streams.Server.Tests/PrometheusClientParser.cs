using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streams.Server.Tests;

/// <summary>
/// Parses Prometheus text with an implementation nobody here wrote: the official Python client's
/// parser (<c>prometheus_client.parser.text_string_to_metric_families</c>, Debian package
/// python3-prometheus-client), run by /usr/bin/python3 or <c>STREAMS_PYTHON</c> as a child process.
/// A missing interpreter or package fails the test with the package's name.
/// </summary>
public static class PrometheusClientParser
{
    public const string Package = "python3-prometheus-client";

    private const int MissingPackageExitCode = 3;

    // Reads the text on stdin, prints the families as JSON. Non-finite values become the names
    // System.Text.Json reads with AllowNamedFloatingPointLiterals.
    private const string Script = """
        import json, math, sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError as error:
            print("cannot import prometheus_client: %s" % error, file=sys.stderr)
            sys.exit(3)

        def number(value):
            if math.isnan(value):
                return "NaN"
            if math.isinf(value):
                return "Infinity" if value > 0 else "-Infinity"
            return value

        families = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            families.append({
                "name": family.name,
                "type": family.type,
                "documentation": family.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": number(s.value)} for s in family.samples],
            })
        json.dump(families, sys.stdout)
        """;

    private static readonly JsonSerializerOptions _jsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<IReadOnlyList<ParsedFamily>> ParseAsync(string text)
    {
        var python = Environment.GetEnvironmentVariable("STREAMS_PYTHON") is { Length: > 0 } configured ? configured : "/usr/bin/python3";
        if (!File.Exists(python))
        {
            Assert.Fail($"Missing {python}: parsing /metrics needs python3 with the Debian package {Package} (apt-get install -y {Package}; scripts/test.sh installs it).");
        }

        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Script);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{python} did not parse the metrics within 60 s.");
        }

        if (process.ExitCode == MissingPackageExitCode)
        {
            Assert.Fail($"{python} cannot import prometheus_client: install the Debian package {Package} (apt-get install -y {Package}; scripts/test.sh installs it). {await stderr}");
        }

        if (process.ExitCode != 0)
        {
            Assert.Fail($"prometheus_client could not parse the metrics (exit code {process.ExitCode}):\n{await stderr}\nThe text:\n{text}");
        }

        return JsonSerializer.Deserialize<List<ParsedFamily>>(await stdout, _jsonOptions)
            ?? throw new InvalidOperationException("The parser printed null.");
    }
}

public sealed record ParsedFamily(string Name, string Type, string Documentation, IReadOnlyList<ParsedSample> Samples);

public sealed record ParsedSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
