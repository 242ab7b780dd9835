using System.Diagnostics;
using Streams.Client.Api;
using Streams.Rpc.Client;

namespace Streams.Cluster.Tests;

/// <summary>
/// One Streams node, <c>dotnet Streams.Server.dll</c>, across its incarnations: a restart reuses
/// the node id, both ports and the data directory. Keeps the tail of what every incarnation
/// printed (stdout and stderr, read continuously so a chatty node never blocks on a full pipe)
/// for failure messages.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private const int TailLines = 50_000;
    private const string ListeningPrefix = "streams: listening ";

    // A start takes a few seconds; generous for a loaded two-core machine.
    private static readonly TimeSpan _listeningTimeout = TimeSpan.FromSeconds(60);

    private readonly IReadOnlyList<string> _arguments;
    private readonly Lock _lock = new();
    private readonly Queue<string> _tail = new();
    private readonly List<RpcChannel> _channels = [];
    private Process? _process;
    private RpcChannel _channel;
    private int _incarnation;

    public NodeProcess(string id, int grpcPort, int httpPort, string dataDirectory, IReadOnlyList<string> arguments)
    {
        Id = id;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        DataDirectory = dataDirectory;
        _arguments = arguments;
        _channel = NewChannel();
    }

    /// <summary>The node id, such as <c>node-1</c>.</summary>
    public string Id { get; }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public Uri GrpcAddress { get; }

    public string DataDirectory { get; }

    /// <summary>How many times the node was started.</summary>
    public int Incarnations => Volatile.Read(ref _incarnation);

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

    /// <summary>The Streams API of the current incarnation (a fresh connection after every restart).</summary>
    public StreamsApiClient Streams
    {
        get
        {
            lock (_lock)
            {
                return new StreamsApiClient(_channel);
            }
        }
    }

    /// <summary>The Cluster API of the current incarnation.</summary>
    public ClusterApiClient Cluster
    {
        get
        {
            lock (_lock)
            {
                return new ClusterApiClient(_channel);
            }
        }
    }

    /// <summary>
    /// Starts an incarnation and waits for its listening line. A start whose port is still taken
    /// (the killed incarnation's socket not yet released) is tried again a few times.
    /// </summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var (started, exited) = await TryStartAsync();
            if (started)
            {
                return;
            }

            if (attempt >= 5 || !Tail(20).Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Node {Id} did not print its listening line within {_listeningTimeout.TotalSeconds} s ({(exited ? "it exited" : "still running, now killed")}). Its output:\n{Tail(80)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt));
        }
    }

    /// <summary>SIGKILL (Process.Kill is SIGKILL on Linux): no flush, no shutdown, no goodbye to peers.</summary>
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
            // It had exited already.
        }

        // Also drains the pipes, so the tail holds everything the incarnation printed.
        await process.WaitForExitAsync();
        Append($"[#{_incarnation} SIGKILLed at {DateTime.UtcNow:HH:mm:ss.fff}, exit code {process.ExitCode}]");
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

    /// <summary>
    /// The last <paramref name="lines"/> lines with runs of the same message (digits aside, such as
    /// the same warning for every failed write while a peer is down) collapsed into one line.
    /// </summary>
    public string Digest(int lines)
    {
        List<string> all;
        lock (_lock)
        {
            all = [.. _tail];
        }

        var collapsed = new List<string>();
        string? previousKey = null;
        var repeats = 0;
        foreach (var line in all)
        {
            var key = new string([.. line.Where(c => !char.IsDigit(c))]);
            if (key == previousKey)
            {
                repeats++;
                continue;
            }

            if (repeats > 0)
            {
                collapsed.Add($"    (and {repeats} more like it)");
            }

            collapsed.Add(line);
            previousKey = key;
            repeats = 0;
        }

        if (repeats > 0)
        {
            collapsed.Add($"    (and {repeats} more like it)");
        }

        return string.Join('\n', collapsed.Skip(Math.Max(0, collapsed.Count - lines)));
    }

    /// <summary>Writes everything kept of the node's output (all incarnations) to <paramref name="path"/>.</summary>
    public void SaveOutput(string path)
    {
        lock (_lock)
        {
            File.WriteAllLines(path, _tail);
        }
    }

    /// <summary>The last <paramref name="lines"/> lines that matter most after a failure: errors, replicas opened or deleted, starts and kills.</summary>
    public IReadOnlyList<string> Notable(int lines)
    {
        string[] markers = [" fail:", " crit:", "Exception", "Deleted the replica", "Opened the replica", "starting at", "SIGKILLed at", "Opened the shard Raft log"];
        lock (_lock)
        {
            var notable = _tail.Where(l => markers.Any(m => l.Contains(m, StringComparison.Ordinal))).ToList();
            return notable[Math.Max(0, notable.Count - lines)..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_lock)
        {
            foreach (var channel in _channels)
            {
                channel.Dispose();
            }

            _channels.Clear();
        }
    }

    private async Task<(bool Started, bool Exited)> TryStartAsync()
    {
        var incarnation = Interlocked.Increment(ref _incarnation);
        // The node has no --exit-with-parent: a small sh keeps it on a leash instead. It runs the
        // node in the background and waits for it; a reader of the pipe on its stdin, which the
        // tests never write to, SIGKILLs the node when the pipe closes, that is when the test
        // process dies without cleaning up. Killing the process tree kills all three at once. The
        // reader writes nowhere and is killed when the node exits, so the output ends with the node.
        var info = new ProcessStartInfo(Tools.Shell)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec 3<&0; \"$@\" </dev/null 3<&- & node=$!; { read -r _ <&3; kill -KILL \"$node\"; } >/dev/null 2>&1 & watcher=$!; wait \"$node\"; status=$?; kill \"$watcher\" 2>/dev/null; exit $status");
        info.ArgumentList.Add("streams-node");
        info.ArgumentList.Add(Tools.DotnetHost);
        info.ArgumentList.Add(Tools.ServerDll);
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The node reads its settings from STREAMS_ variables too: only the command line counts here.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("STREAMS_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Append($"[#{incarnation}] {line}");
                if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
                {
                    listening.TrySetResult();
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
        Append($"[#{incarnation} starting at {DateTime.UtcNow:HH:mm:ss.fff}]");
        process.Start();
        ProcessReaper.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _process = process;

            // Calls to the previous incarnation fail on their own; new ones get a new connection.
            _channel = NewChannel();
        }

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(_listeningTimeout));
        if (first == listening.Task)
        {
            return (true, false);
        }

        await KillAsync();
        return (false, first == exited);
    }

    private RpcChannel NewChannel()
    {
        var channel = RpcChannel.ForAddress(GrpcAddress, new RpcChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(3) });
        _channels.Add(channel);
        return channel;
    }

    private void Append(string line)
    {
        lock (_lock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }
}
