using System.Diagnostics;

namespace Streams.Faults.Hosts;

/// <summary>What one run of deploy/netns/hosts.sh printed and how it ended.</summary>
internal sealed record HostScriptResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    public string Describe() => $"{Command}: exit code {ExitCode}\n{Stdout.TrimEnd()}\n{Stderr.TrimEnd()}".TrimEnd();
}

/// <summary>Runs deploy/netns/hosts.sh for one set of hosts (its --name and --state) to its end, with a time limit.</summary>
internal sealed class HostScript(string repoRoot, string prefix, string stateDirectory)
{
    public string ScriptPath { get; } = Path.Combine(repoRoot, "deploy", "netns", "hosts.sh");

    public string Prefix => prefix;

    public async Task<HostScriptResult> RunAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = repoRoot,
        };
        foreach (var arg in (string[])[ScriptPath, "--name", prefix, "--state", stateDirectory, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        // The nodes must not inherit this process's settings for itself; they get the same dotnet host.
        foreach (var name in info.Environment.Keys.Where(n => n.StartsWith("STREAMS_", StringComparison.OrdinalIgnoreCase) || n.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            info.Environment["DOTNET"] = host;
        }

        var command = "hosts.sh " + string.Join(' ', args);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start bash.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            return new HostScriptResult(command, -1, await stdout, $"{await stderr}\ntimed out after {timeout.TotalSeconds:F0} s and killed");
        }

        return new HostScriptResult(command, process.ExitCode, await stdout, await stderr);
    }
}
