using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Streams.Server.Tests.Firehose;

/// <summary>
/// An s3rver (a small S3-compatible server on Node.js, tests/interop/node) as a child process,
/// on 127.0.0.1, keeping its objects in a data directory. It can be stopped and started again on
/// the same port and directory, as an outage. Self-contained (no xunit, no other test helpers)
/// so that cluster tests and load runs can link this file.
/// </summary>
public sealed class S3rverProcess : IDisposable
{
    /// <summary>The access key s3rver knows (its default account).</summary>
    public const string AccessKeyId = "S3RVER";

    /// <summary>The secret of <see cref="AccessKeyId"/>.</summary>
    public const string SecretAccessKey = "S3RVER";

    private static readonly TimeSpan _startTimeout = TimeSpan.FromSeconds(20);
    private readonly string[] _buckets;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>An s3rver that keeps its objects in <paramref name="dataDirectory"/>; not started yet.</summary>
    /// <param name="dataDirectory">Where objects go (created when missing; kept when stopped).</param>
    /// <param name="buckets">Buckets made at every start (existing objects stay).</param>
    /// <param name="port">The port; 0 picks a free one, kept across restarts.</param>
    public S3rverProcess(string dataDirectory, IEnumerable<string> buckets, int port = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(buckets);
        DataDirectory = Path.GetFullPath(dataDirectory);
        _buckets = buckets.ToArray();
        Port = port == 0 ? FreePort() : port;
        Endpoint = new Uri($"http://127.0.0.1:{Port}");
    }

    /// <summary>The port s3rver listens on.</summary>
    public int Port { get; }

    /// <summary>The endpoint, http://127.0.0.1:port.</summary>
    public Uri Endpoint { get; }

    /// <summary>Where objects are kept.</summary>
    public string DataDirectory { get; }

    /// <summary>True between a start and a stop.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running server's process id, or null (for benchmark reports).</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>The processor time the running server used so far (for benchmark reports).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                return _process?.TotalProcessorTime ?? TimeSpan.Zero;
            }
            catch (InvalidOperationException)
            {
                // Exited and reaped.
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Starts an s3rver in <paramref name="dataDirectory"/> with <paramref name="buckets"/> and waits until it answers.</summary>
    public static async Task<S3rverProcess> StartAsync(string dataDirectory, IEnumerable<string> buckets, int port = 0, CancellationToken cancellationToken = default)
    {
        var server = new S3rverProcess(dataDirectory, buckets, port);
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Starts s3rver (again) on the same port and directory and waits until it accepts connections.</summary>
    /// <exception cref="InvalidOperationException">node or s3rver is not installed, or s3rver did not start; the message says how to fix it.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        var (node, script, exitWithParent) = FindTools();
        Directory.CreateDirectory(DataDirectory);
        var info = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--require", exitWithParent, script, "--directory", DataDirectory, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--address", "127.0.0.1", "--silent" })
        {
            info.ArgumentList.Add(arg);
        }

        // Last: s3rver takes the words after a bucket name that do not start with '-' as its config files.
        foreach (var bucket in _buckets)
        {
            info.ArgumentList.Add("--configure-bucket");
            info.ArgumentList.Add(bucket);
        }

        lock (_output)
        {
            _output.Clear();
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {node} {script}.");
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilListeningAsync(process, cancellationToken);
    }

    /// <summary>Kills s3rver (an outage: no goodbye to clients); the data directory stays.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    /// <summary>Kills s3rver if it runs.</summary>
    public void Dispose()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
    }

    /// <summary>What s3rver printed since it was last started (it runs --silent, so mostly errors).</summary>
    public string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    /// <summary>The repository root: STREAMS_REPO_ROOT, else the folder above the test binaries holding Streams.slnx.</summary>
    public static string RepoRoot()
    {
        if (Environment.GetEnvironmentVariable("STREAMS_REPO_ROOT") is { Length: > 0 } configured && File.Exists(Path.Combine(configured, "Streams.slnx")))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Streams.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find the repository root (the folder with Streams.slnx) above {AppContext.BaseDirectory}; set STREAMS_REPO_ROOT.");
    }

    private static (string Node, string Script, string ExitWithParent) FindTools()
    {
        var root = Path.GetFullPath(RepoRoot());
        var nodeFolder = Path.Combine(root, "tests", "interop", "node");
        var node = FindOnPath("node")
            ?? throw new InvalidOperationException("node (Node.js >= 18) is not on PATH; s3rver needs it. Install Node.js with npm, then run scripts/test.sh (it installs s3rver) or `npm ci` in tests/interop/node.");
        var script = Path.Combine(nodeFolder, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"s3rver is not installed ({script} is missing): run scripts/test.sh, which runs npm ci in tests/interop/node, or `cd tests/interop/node && npm ci`.");
        }

        // Keeps the server from outliving a test host that crashed before disposing it.
        var exitWithParent = Path.Combine(root, "tests", "interop", "s3", "exit-with-parent.cjs");
        if (!File.Exists(exitWithParent))
        {
            throw new InvalidOperationException($"{exitWithParent} is missing from the repository.");
        }

        return (node, script, exitWithParent);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilListeningAsync(Process process, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                _process = null;
                throw new InvalidOperationException($"s3rver exited with code {process.ExitCode} while starting on port {Port} with data directory {DataDirectory}:\n{Output()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < _startTimeout)
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"s3rver did not accept connections on port {Port} within {_startTimeout.TotalSeconds:0} s ({e.Message}):\n{Output()}");
            }
        }
    }
}
