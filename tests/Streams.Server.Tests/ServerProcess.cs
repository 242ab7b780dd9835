using System.Diagnostics;
using System.Text;
using Streams.Server.Hosting;

namespace Streams.Server.Tests;

/// <summary>
/// The real program, <c>dotnet Streams.Server.dll</c>, run as a child process from the copy
/// beside the tests. STREAMS_ and OTEL_ variables of the test process are not passed on.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("STREAMS_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, _stdout, _stdoutClosed, stdout: true);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, _stderr, _stderrClosed, stdout: false);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The server's assembly, as built beside the tests.</summary>
    public static string ServerDll => typeof(StreamsNode).Assembly.Location;

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static ServerProcess Start(string workingDirectory, params string[] args) => new(args, workingDirectory);

    /// <summary>Waits for the listening line and returns the two addresses.</summary>
    public async Task<(Uri Grpc, Uri Http)> WaitForListeningAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_listening.Task, exited).WaitAsync(_timeout);
        if (first != _listening.Task)
        {
            await DrainAsync();
            throw new InvalidOperationException($"The server exited with code {_process.ExitCode} before listening. Its stderr:\n{Stderr}");
        }

        Assert.True(ListeningLine.TryParse(await _listening.Task, out var grpc, out var http));
        return (grpc!, http!);
    }

    /// <summary>Waits for the process to exit and its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(_timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The server did not exit within {_timeout}. Its stderr:\n{Stderr}");
        }

        await DrainAsync();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager or container runtime does to stop the node.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("Could not run kill.");
        await kill.WaitForExitAsync().WaitAsync(_timeout);
        Assert.Equal(0, kill.ExitCode);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private static string DotnetHost()
    {
        // `dotnet test` names the host it runs; fall back to the one on PATH.
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    private Task DrainAsync() => Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(_timeout);

    private void OnLine(string? line, StringBuilder buffer, TaskCompletionSource closed, bool stdout)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }

        if (stdout && line.StartsWith(ListeningLine.Prefix, StringComparison.Ordinal))
        {
            _listening.TrySetResult(line);
        }
    }
}
