using System.Diagnostics;
using System.Text;

namespace Streams.Rpc.Tests;

/// <summary>
/// An interop peer written with another gRPC implementation (tests/interop): Python grpcio or
/// Node grpc-js, run as a real process. A missing tool fails the test with its name.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr;

    private PeerProcess(Process process, StringBuilder stderr, int port)
    {
        _process = process;
        _stderr = stderr;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The command that runs a peer: /usr/bin/python3 for Python (Debian's, which has grpcio), node for Node.</summary>
    public static (string FileName, string Script) Command(string language)
    {
        switch (language)
        {
            case "python":
                // Debian's python3 has python3-grpcio; another python3 earlier on PATH may not.
                var python = Environment.GetEnvironmentVariable("STREAMS_PYTHON") is { Length: > 0 } configured ? configured : "/usr/bin/python3";
                Require(python, "a python3 with python3-grpcio and python3-grpc-tools (Debian's /usr/bin/python3, or STREAMS_PYTHON); scripts/test.sh installs them");
                return (python, Path.Combine(RepoRoot, "tests/interop/python/peer.py"));
            case "node":
                var node = FindOnPath("node") ?? throw new InvalidOperationException("The interop tests need 'node' (Node.js 18 or later) on PATH.");
                var modules = Path.Combine(RepoRoot, "tests/interop/node/node_modules/@grpc/grpc-js");
                Require(modules, "@grpc/grpc-js in tests/interop/node/node_modules: run 'npm ci' in tests/interop/node (scripts/test.sh does)");
                return (node, Path.Combine(RepoRoot, "tests/interop/node/peer.js"));
            default:
                throw new ArgumentException($"Unknown peer language '{language}'.", nameof(language));
        }
    }

    /// <summary>Starts a peer server and waits for the port it prints.</summary>
    public static async Task<PeerProcess> StartServerAsync(string language, params string[] options)
    {
        var (fileName, script) = Command(language);
        var info = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("server");
        foreach (var option in options)
        {
            info.ArgumentList.Add(option);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new InvalidOperationException($"The {language} peer server did not print its port (got '{line}'). Its stderr:\n{stderr}");
        }

        return new PeerProcess(process, stderr, int.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Runs one client case of a peer against <paramref name="target"/>; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunClientAsync(string language, Uri target, string caseName)
    {
        var (fileName, script) = Command(language);
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("client");
        info.ArgumentList.Add("--target");
        info.ArgumentList.Add($"{target.Host}:{target.Port}");
        info.ArgumentList.Add("--case");
        info.ArgumentList.Add(caseName);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"The {language} client timed out after 90 s.\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, $"{await stdout}\n{await stderr}".Trim());
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Closing stdin asks the peer to stop; kill it if it does not.
            _process.StandardInput.Close();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        _process.Dispose();
    }

    private static void Require(string path, string what)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new InvalidOperationException($"Missing {path}: the interop tests need {what}.");
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "proto")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find the repository root above {AppContext.BaseDirectory}.");
    }
}
