using System.Diagnostics;

namespace Streams.Raft.Tests.Cluster;

/// <summary>
/// One node of a <see cref="ProcessCluster"/>: a <c>Streams.Raft.ProcessNode</c> child process,
/// across its incarnations (every restart reuses the id, the ports and the data directory). Keeps
/// the tail of its stdout and stderr for failure messages; the pipes are read continuously so a
/// chatty child never blocks on a full pipe.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private const int TailLines = 300;

    // A start takes about a second; generous for a loaded machine.
    private static readonly TimeSpan _readyTimeout = TimeSpan.FromSeconds(30);

    private readonly string _nodeAssembly;
    private readonly IReadOnlyList<string> _arguments;
    private readonly Lock _lock = new();
    private readonly Queue<string> _tail = new();
    private Process? _process;
    private int _incarnation;
    private int _snapshotsTaken;
    private int _snapshotsRestored;
    private int _snapshotsReceived;

    public NodeProcess(long id, int httpPort, string dataDirectory, string nodeAssembly, IReadOnlyList<string> arguments)
    {
        Id = id;
        HttpAddress = new Uri($"http://127.0.0.1:{httpPort}/");
        DataDirectory = dataDirectory;
        _nodeAssembly = nodeAssembly;
        _arguments = arguments;
    }

    public long Id { get; }

    /// <summary>The client API (/put, /values, /status).</summary>
    public Uri HttpAddress { get; }

    public string DataDirectory { get; }

    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _process is not null;
            }
        }
    }

    /// <summary>How many times the node took a snapshot and compacted (all incarnations).</summary>
    public int SnapshotsTaken => Volatile.Read(ref _snapshotsTaken);

    /// <summary>How many times the node's state came from a snapshot: at start or sent by the leader.</summary>
    public int SnapshotsRestored => Volatile.Read(ref _snapshotsRestored);

    /// <summary>Of <see cref="SnapshotsRestored"/>, those after the node got ready: sent by the leader.</summary>
    public int SnapshotsReceived => Volatile.Read(ref _snapshotsReceived);

    /// <summary>
    /// Starts an incarnation and waits for its "node N ready" line. A start whose port is still
    /// taken (a just-killed incarnation's socket not yet released) is tried again a few times.
    /// </summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var (started, exited) = await TryStartAsync(_readyTimeout);
            if (started)
            {
                return;
            }

            if (attempt >= 5 || !Tail(20).Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Node {Id} did not get ready within {_readyTimeout.TotalSeconds} s ({(exited ? "it exited" : "still running, now killed")}). Its output:\n{Tail(60)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
        }
    }

    /// <summary>SIGKILL (Process.Kill is SIGKILL on Linux): no flush, no dispose, no shutdown hook.</summary>
    public async Task KillAsync()
    {
        Process? process;
        lock (_lock)
        {
            process = _process;
            _process = null;
        }

        if (process is null)
        {
            return;
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited already (a node whose group failed stops by itself).
        }

        // Also drains the output pipes, so the tail holds everything the incarnation printed.
        await process.WaitForExitAsync();
        Append($"[#{_incarnation} killed, exit code {process.ExitCode}]");
        process.Dispose();
    }

    /// <summary>The last <paramref name="lines"/> lines the node printed, all incarnations, oldest first.</summary>
    public string Tail(int lines)
    {
        lock (_lock)
        {
            return string.Join('\n', _tail.Skip(Math.Max(0, _tail.Count - lines)));
        }
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private async Task<(bool Started, bool Exited)> TryStartAsync(TimeSpan readyTimeout)
    {
        var incarnation = Interlocked.Increment(ref _incarnation);
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,

            // The node exits when its stdin closes: if the test host itself dies, so do the nodes.
            RedirectStandardInput = true,
        };
        info.ArgumentList.Add(_nodeAssembly);
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add("--exit-with-parent");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readyLine = $"node {Id} ready";
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Append($"[#{incarnation}] {line}");
                if (line == readyLine)
                {
                    ready.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Append($"[#{incarnation} err] {line}");
            }
        };
        Append($"[#{incarnation} starting]");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _process = process;
        }

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(readyTimeout));
        if (first == ready.Task)
        {
            return (true, false);
        }

        await KillAsync();
        return (false, first == exited);
    }

    private void Append(string line)
    {
        if (line.Contains("log compacted", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _snapshotsTaken);
        }
        else if (line.Contains("restored snapshot at", StringComparison.Ordinal))
        {
            // The node's own line (see its AppendOnlyValues), which says where the snapshot came from.
            Interlocked.Increment(ref _snapshotsRestored);
            if (line.EndsWith("sent by the leader", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _snapshotsReceived);
            }
        }

        lock (_lock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }

    /// <summary>The dotnet that runs the tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
}
