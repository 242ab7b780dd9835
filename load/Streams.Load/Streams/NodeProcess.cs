using System.Diagnostics;
using System.Globalization;
using Streams.Server.Hosting;

namespace Streams.Load.ClusterBench;

/// <summary>
/// One Streams node as a child process: <c>dotnet Streams.Server.dll</c> from the copy beside this
/// tool. Its standard error (the node's log) and standard output go to a log file; warnings and
/// errors are counted and the last lines kept, to be shown when something goes wrong.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private const int TailLines = 40;
    private const int KeptProblems = 12;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly Queue<string> _tail = new();
    private readonly List<string> _problems = [];
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _warnings;
    private long _errors;

    private NodeProcess(string name, Uri grpcAddress, string logPath, IEnumerable<string> args)
    {
        Name = name;
        GrpcAddress = grpcAddress;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerDll)!,
        };
        info.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The node reads STREAMS_* settings from the environment: only the command line counts here.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("STREAMS_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        Arguments = string.Join(' ', info.ArgumentList.Skip(1));
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, stdout: true);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, stdout: false);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Pid = _process.Id;
    }

    /// <summary>The node's id, such as <c>node-1</c>.</summary>
    public string Name { get; }

    /// <summary>Where clients and peers reach it.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>Its standard output and error, line by line.</summary>
    public string LogPath { get; }

    /// <summary>The node's command line after the dll.</summary>
    public string Arguments { get; }

    public int Pid { get; }

    /// <summary>The server's assembly, copied beside this tool by the project reference.</summary>
    public static string ServerDll => typeof(StreamsNode).Assembly.Location;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once exited.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Log lines at warning level so far.</summary>
    public long Warnings => Interlocked.Read(ref _warnings);

    /// <summary>Log lines at error or critical level so far.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>CPU time (user + system) the node has used so far; zero once it exited.</summary>
    public TimeSpan CpuTime => ClusterBenchmarkRun.CpuTime(_process);

    public static NodeProcess Start(string name, Uri grpcAddress, string logPath, IEnumerable<string> args) => new(name, grpcAddress, logPath, args);

    /// <summary>Waits for the node's <c>streams: listening</c> line.</summary>
    public async Task WaitForListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var exited = _process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(_listening.Task, exited).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (first != _listening.Task)
        {
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before listening. Its last lines:\n{Tail()}");
        }
    }

    /// <summary>The first warnings and errors the node logged (at most a dozen), and its last lines.</summary>
    public (IReadOnlyList<string> Problems, string Tail) Diagnostics()
    {
        lock (_gate)
        {
            return ([.. _problems], Tail());
        }
    }

    /// <summary>Asks the node to stop (SIGTERM, as a service manager does) and kills it if it has not within the timeout.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            if (kill is not null)
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }

            await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Kill();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private string Tail() => string.Join('\n', _tail);

    private void OnLine(string? line, bool stdout)
    {
        if (line is null)
        {
            (stdout ? _outputClosed : _errorClosed).TrySetResult();
            return;
        }

        if (stdout && line.StartsWith(ListeningLine.Prefix, StringComparison.Ordinal))
        {
            _listening.TrySetResult(line);
        }

        // The simple console format: "<time> warn: Category[id] message"; exception stack lines follow.
        var warning = line.Contains(" warn: ", StringComparison.Ordinal);
        var error = line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal);
        if (warning)
        {
            Interlocked.Increment(ref _warnings);
        }

        if (error)
        {
            Interlocked.Increment(ref _errors);
        }

        lock (_gate)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Lines after Dispose are dropped.
            }

            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }

            if ((warning || error) && _problems.Count < KeptProblems)
            {
                _problems.Add(line.Length > 400 ? line[..400] + "…" : line);
            }
        }
    }

    private static string DotnetHost()
    {
        // The host running this tool when started as `dotnet streams-load.dll`; else the one on PATH.
        var current = Environment.ProcessPath;
        if (current is not null && string.Equals(Path.GetFileNameWithoutExtension(current), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
