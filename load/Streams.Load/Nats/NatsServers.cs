using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Streams.Load.Nats;

/// <summary>
/// One or three <c>nats-server</c> processes with JetStream on 127.0.0.1, the peer Streams is
/// compared against. Each server gets a config file, a JetStream store directory and a log file
/// under its own folder of the caller's directory (<c>n1/</c>, <c>n2/</c>, ...; a folder that
/// already holds a store is recovered, not wiped); three servers form a cluster with routes to
/// each other. Disposing stops the processes (SIGTERM, then kill) and leaves the directory and its
/// files to the caller.
/// </summary>
/// <remarks>
/// For the comparison: nats-server 2.9.10 acks a publish once the message is written to the OS
/// page cache (for R3, on a quorum of servers), not fsynced; it fsyncs block files in the
/// background every 2 minutes and has no option to fsync each message.
/// </remarks>
internal sealed class NatsServers : IAsyncDisposable
{
    /// <summary>The Debian package that ships the server, named in every "not found" error.</summary>
    public const string DebianPackage = "nats-server";

    /// <summary>The cluster name three servers share.</summary>
    public const string ClusterName = "streams-bench";

    private static readonly string[] _searchDirectories = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];

    private readonly List<NatsServerProcess> _servers;

    private NatsServers(List<NatsServerProcess> servers)
    {
        _servers = servers;
    }

    /// <summary>The servers, in start order.</summary>
    public IReadOnlyList<NatsServerProcess> Servers => _servers;

    /// <summary>Each server's client address, <c>nats://127.0.0.1:PORT</c>.</summary>
    public IReadOnlyList<Uri> ClientUrls => [.. _servers.Select(s => s.ClientUrl)];

    /// <summary>
    /// The <c>nats-server</c> executable: <c>STREAMS_NATS_SERVER</c> if set, else the first found on
    /// <c>PATH</c> or in the sbin/bin directories Debian installs to; null if there is none.
    /// </summary>
    public static string? FindExecutable()
    {
        var explicitPath = Environment.GetEnvironmentVariable("STREAMS_NATS_SERVER");
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(_searchDirectories);
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, "nats-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The executable, or an error that says which package to install.</summary>
    public static string RequireExecutable() =>
        FindExecutable() ?? throw new FileNotFoundException(
            $"nats-server was not found (on PATH, in /usr/sbin, or at STREAMS_NATS_SERVER). Install the Debian package '{DebianPackage}': apt-get install -y {DebianPackage} (scripts/test.sh installs it).",
            "nats-server");

    /// <summary>The installed server's version line, such as <c>nats-server: v2.9.10</c>.</summary>
    public static async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(RequireExecutable(), ["--version"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("nats-server --version did not start.");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return output.Trim();
    }

    /// <summary>
    /// Starts <paramref name="count"/> servers (1, or 3 as a cluster) with their files under
    /// <paramref name="directory"/> and waits until each one's <c>/healthz</c> says ok and, for a
    /// cluster, its <c>/jsz</c> shows a meta leader and all three servers in the meta group.
    /// </summary>
    /// <param name="count">1 or 3.</param>
    /// <param name="directory">Where each server's folder goes; created if missing, never deleted.</param>
    /// <param name="readyTimeout">How long all of them may take to become healthy; 30 s if null.</param>
    /// <param name="cancellationToken">Cancels the wait (the started servers are then stopped).</param>
    public static async Task<NatsServers> StartAsync(int count, string directory, TimeSpan? readyTimeout, CancellationToken cancellationToken)
    {
        if (count is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "NATS peers run as 1 server or a 3-server cluster.");
        }

        var executable = RequireExecutable();
        Directory.CreateDirectory(directory);

        // Three ports per server (client, monitoring, cluster), all bound at once so none repeats.
        var ports = FreePorts(count * 3);
        var clusterPorts = Enumerable.Range(0, count).Select(i => ports[(i * 3) + 2]).ToArray();
        var servers = new List<NatsServerProcess>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var name = $"n{i + 1}";
                var folder = Path.Combine(directory, name);
                Directory.CreateDirectory(folder);
                var clientPort = ports[i * 3];
                var monitorPort = ports[(i * 3) + 1];
                var config = Config(name, folder, clientPort, monitorPort, count == 1 ? null : clusterPorts, i);
                var configPath = Path.Combine(folder, "nats.conf");
                await File.WriteAllTextAsync(configPath, config, cancellationToken);
                servers.Add(NatsServerProcess.Start(executable, name, configPath, Path.Combine(folder, "nats.log"), clientPort, monitorPort));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(readyTimeout ?? TimeSpan.FromSeconds(30));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Task.WhenAll(servers.Select(s => s.WaitHealthyAsync(http, count, timeout.Token, cancellationToken)));
            return new NatsServers(servers);
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Stops every server: SIGTERM, then a kill after 10 s. Files stay where they are.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_servers.Select(s => s.DisposeAsync().AsTask()));
    }

    private static string Config(string name, string folder, int clientPort, int monitorPort, int[]? clusterPorts, int index)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"server_name: {name}\n");
        text.Append(CultureInfo.InvariantCulture, $"listen: 127.0.0.1:{clientPort}\n");
        text.Append(CultureInfo.InvariantCulture, $"http: 127.0.0.1:{monitorPort}\n");

        // Room for the largest records the comparison sends (the default is 1 MB, which a 1 MiB
        // record plus nothing else would already exceed).
        text.Append("max_payload: 8MB\n");
        text.Append(CultureInfo.InvariantCulture, $"log_file: \"{Path.Combine(folder, "nats.log")}\"\n");

        // nats-server appends "jetstream/" to store_dir. Durability, as measured on 2.9.10 with
        // strace: each message is written (write(2)) to its block file before the PubAck, but
        // fsync comes only from a background timer, every 2 minutes per block file (stream and
        // Raft WAL alike), R1 and R3. 2.9.10 cannot be told to fsync each message: it rejects
        // sync_interval and sync_always as unknown fields (they came with 2.10).
        text.Append(CultureInfo.InvariantCulture, $"jetstream {{\n  store_dir: \"{Path.Combine(folder, "store")}\"\n}}\n");
        if (clusterPorts is not null)
        {
            // Routes to the others only: a route to itself is found out and closed as a duplicate,
            // which only adds noise to the log.
            var routes = string.Join(", ", clusterPorts.Where((_, i) => i != index).Select(p => $"nats-route://127.0.0.1:{p}"));
            text.Append(CultureInfo.InvariantCulture, $"cluster {{\n  name: {ClusterName}\n  listen: 127.0.0.1:{clusterPorts[index]}\n  routes: [{routes}]\n}}\n");
        }

        return text.ToString();
    }

    private static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}

/// <summary>One <c>nats-server</c> child process.</summary>
internal sealed class NatsServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan _stopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _earlyOutput;
    private int _disposed;
    private bool _exitedWhenDisposed;
    private volatile bool _released;

    private NatsServerProcess(Process process, StringBuilder earlyOutput, string name, string configPath, string logPath, int clientPort, int monitorPort)
    {
        _process = process;
        _earlyOutput = earlyOutput;
        Name = name;
        ConfigPath = configPath;
        LogPath = logPath;
        ClientUrl = new Uri($"nats://127.0.0.1:{clientPort}");
        MonitorUrl = new Uri($"http://127.0.0.1:{monitorPort}/");
        Pid = process.Id;
    }

    /// <summary>Its <c>server_name</c>: <c>n1</c>, <c>n2</c>, <c>n3</c>.</summary>
    public string Name { get; }

    /// <summary>The config file it was started with.</summary>
    public string ConfigPath { get; }

    /// <summary>Its log (the server writes it itself, via <c>log_file</c>).</summary>
    public string LogPath { get; }

    /// <summary>Where clients connect.</summary>
    public Uri ClientUrl { get; }

    /// <summary>Its HTTP monitoring endpoint (<c>/healthz</c>, <c>/jsz</c>, <c>/varz</c>).</summary>
    public Uri MonitorUrl { get; }

    /// <summary>The process id.</summary>
    public int Pid { get; }

    /// <summary>Whether the process has ended (also after <see cref="DisposeAsync"/>).</summary>
    public bool HasExited => _released ? _exitedWhenDisposed : _process.HasExited;

    /// <summary>CPU time (user + system) used so far; zero once it exited.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                if (_released)
                {
                    return TimeSpan.Zero;
                }

                _process.Refresh();
                return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Starts <c>nats-server -c CONFIG</c>.</summary>
    public static NatsServerProcess Start(string executable, string name, string configPath, string logPath, int clientPort, int monitorPort)
    {
        var info = new ProcessStartInfo(executable, ["-c", configPath])
        {
            UseShellExecute = false,

            // The server logs to its log_file; anything it prints before reading the config (a
            // config error) goes to these, which are drained so a full pipe can never block it.
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = new Process { StartInfo = info };
        var early = new StringBuilder();
        process.OutputDataReceived += (_, e) => Collect(early, e.Data);
        process.ErrorDataReceived += (_, e) => Collect(early, e.Data);
        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new NatsServerProcess(process, early, name, configPath, logPath, clientPort, monitorPort);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The last lines of its log and anything it printed to stdout/stderr.</summary>
    public string Tail(int lines = 30)
    {
        var text = new StringBuilder();
        lock (_earlyOutput)
        {
            text.Append(_earlyOutput);
        }

        try
        {
            if (File.Exists(LogPath))
            {
                using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                var all = reader.ReadToEnd().Split('\n');
                text.AppendJoin('\n', all.TakeLast(lines));
            }
        }
        catch (IOException ex)
        {
            text.Append(CultureInfo.InvariantCulture, $"(log unreadable: {ex.Message})");
        }

        return text.ToString();
    }

    /// <summary>
    /// Polls until the server is ready for JetStream work. Plain <c>/healthz</c> (not
    /// <c>?js-enabled-only=true</c>, which is ok as soon as JetStream is on) fails until the server
    /// has contact with a JetStream meta leader. That alone is not enough for a cluster: two of
    /// three servers elect a meta leader without the third, and an R3 stream created then fails
    /// with "no suitable peers for placement". So for a cluster <c>/jsz</c> must also show a
    /// leader and a meta group of <paramref name="clusterSize"/>.
    /// </summary>
    internal async Task WaitHealthyAsync(HttpClient http, int clusterSize, CancellationToken timeout, CancellationToken caller)
    {
        var last = "no answer yet";
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nats-server {Name} exited with code {_process.ExitCode} before it was healthy. Its output:\n{Tail()}");
            }

            try
            {
                var (healthy, text) = await GetAsync(http, "healthz", timeout);
                last = $"/healthz: {text}";
                if (healthy && clusterSize > 1)
                {
                    var (ok, jsz) = await GetAsync(http, "jsz", timeout);
                    var (leader, size) = ok ? MetaCluster(jsz) : (string.Empty, 0);
                    last = $"/jsz: meta leader '{leader}', meta group of {size}";
                    healthy = leader.Length > 0 && size >= clusterSize;
                }

                if (healthy)
                {
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
            {
                last = "health check timed out";
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                throw NotReady(last);
            }

            try
            {
                await Task.Delay(50, timeout);
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                throw NotReady(last);
            }
        }
    }

    /// <summary>Freezes the process (SIGSTOP): its connections stay open and nothing is answered.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a paused process go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    /// <summary>Sends SIGTERM (the server shuts down at once: lame duck mode is a different signal).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            await SignalAsync("TERM");
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Kill();
        }
    }

    /// <summary>Kills it at once (SIGKILL), for fault injection or a server that would not stop.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing to stop.
        }
    }

    /// <summary>Stops the process (SIGTERM, then kill after 10 s) and releases it; files stay.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(_stopTimeout);
        _exitedWhenDisposed = _process.HasExited;
        _released = true;
        _process.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        // .NET can only SIGKILL a child; kill(1) sends the others.
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        if (kill is not null)
        {
            await kill.WaitForExitAsync();
        }
    }

    private static (string Leader, int Size) MetaCluster(string jsz)
    {
        try
        {
            using var document = JsonDocument.Parse(jsz);
            if (!document.RootElement.TryGetProperty("meta_cluster", out var meta))
            {
                return (string.Empty, 0);
            }

            var leader = meta.TryGetProperty("leader", out var name) ? name.GetString() ?? string.Empty : string.Empty;
            var size = meta.TryGetProperty("cluster_size", out var count) && count.TryGetInt32(out var n) ? n : 0;
            return (leader, size);
        }
        catch (JsonException)
        {
            return (string.Empty, 0);
        }
    }

    private async Task<(bool Ok, string Text)> GetAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(MonitorUrl, path), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.IsSuccessStatusCode, response.IsSuccessStatusCode ? text : $"{(int)response.StatusCode} {text}");
    }

    private TimeoutException NotReady(string last) =>
        new($"nats-server {Name} was not ready in time (last {last}). Its log:\n{Tail()}");

    private static void Collect(StringBuilder sink, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sink)
        {
            if (sink.Length < 16_000)
            {
                sink.Append(line).Append('\n');
            }
        }
    }
}
