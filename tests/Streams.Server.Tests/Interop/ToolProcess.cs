using System.Diagnostics;

namespace Streams.Server.Tests.Interop;

/// <summary>What a finished tool printed, and how it ended.</summary>
public sealed record ToolResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The command, its exit code and everything it printed, for an assertion message.</summary>
    public string Describe() => $"{Command}\nexit code {ExitCode}\n--- stdout\n{Stdout.TrimEnd()}\n--- stderr\n{Stderr.TrimEnd()}";
}

/// <summary>
/// Runs a tool that is not .NET (python3, bash) to its end, with a time limit, and collects its
/// output; also finds the repository and the Python the tests should use.
/// </summary>
public static class ToolProcess
{
    /// <summary>The repository root: STREAMS_REPO_ROOT (scripts/test.sh sets it), else found above the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>STREAMS_PYTHON (scripts/test.sh sets it), else Debian's /usr/bin/python3.</summary>
    public static string Python =>
        Environment.GetEnvironmentVariable("STREAMS_PYTHON") is { Length: > 0 } configured ? configured : "/usr/bin/python3";

    /// <summary>
    /// The environment changes for a deploy script that starts nodes: the test process's STREAMS_
    /// and OTEL_ settings removed (they must not reach the script or its nodes), and DOTNET set to
    /// the dotnet host running the tests when it is known. Callers may add their own.
    /// </summary>
    public static Dictionary<string, string?> ScriptEnvironment()
    {
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("STREAMS_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(name => name, _ => (string?)null);
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            environment["DOTNET"] = host;
        }

        return environment;
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="args"/>; kills it (and its children)
    /// after <paramref name="timeout"/> and fails the test. <paramref name="environment"/> adds or
    /// (with a null value) removes variables.
    /// </summary>
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> args,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var command = string.Join(' ', new[] { fileName }.Concat(info.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a)));
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s and killed: {command}\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }

        return new ToolResult(command, process.ExitCode, await stdout, await stderr);
    }

    private static string FindRepoRoot()
    {
        if (Environment.GetEnvironmentVariable("STREAMS_REPO_ROOT") is { Length: > 0 } configured && Directory.Exists(Path.Combine(configured, "proto")))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "proto")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find the repository root above {AppContext.BaseDirectory}; set STREAMS_REPO_ROOT.");
    }
}
