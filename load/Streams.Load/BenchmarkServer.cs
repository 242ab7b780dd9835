using System.Diagnostics;
using System.Reflection;
using Streams.Rpc.Interop;

namespace Streams.Load;

/// <summary>
/// The server under test: Kestrel with the Interop gRPC service and the raw endpoints on one
/// h2c port, either in this process or in a child process (<c>rpc-serve</c>).
/// </summary>
internal sealed class BenchmarkServer : IAsyncDisposable
{
    private const string ListeningPrefix = "LISTENING ";
    private readonly RpcTestServer? _inProcess;
    private readonly Process? _child;

    private BenchmarkServer(Uri address, RpcTestServer? inProcess, Process? child)
    {
        Address = address;
        _inProcess = inProcess;
        _child = child;
    }

    public Uri Address { get; }

    public bool InProcess => _inProcess is not null;

    public static Task<RpcTestServer> StartKestrelAsync() => RpcTestServer.StartAsync(pipeline: RawEndpoints.Map);

    public static async Task<BenchmarkServer> StartAsync(bool childProcess, CancellationToken cancellationToken)
    {
        if (!childProcess)
        {
            var server = await StartKestrelAsync().ConfigureAwait(false);
            return new BenchmarkServer(server.Address, server, null);
        }

        var info = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell this program's path to start the server process.");
        info.FileName = host;
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // Run as `dotnet streams-load.dll`: the child needs the assembly too.
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        info.ArgumentList.Add("rpc-serve");
        var child = Process.Start(info) ?? throw new InvalidOperationException($"Could not start the server process {host}.");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            while (true)
            {
                var line = await child.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"The server process exited (code {(child.HasExited ? child.ExitCode : -1)}) before it told its address.");
                if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
                {
                    return new BenchmarkServer(new Uri(line[ListeningPrefix.Length..]), null, child);
                }
            }
        }
        catch
        {
            Stop(child);
            child.Dispose();
            throw;
        }
    }

    /// <summary>The child side of <c>--server-process</c>: prints the address, serves until standard input closes.</summary>
    public static async Task<int> ServeUntilStdinClosesAsync(CancellationToken cancellationToken)
    {
        await using var server = await StartKestrelAsync().ConfigureAwait(false);
        Console.Out.WriteLine(ListeningPrefix + server.Address.GetLeftPart(UriPartial.Authority));
        Console.Out.Flush();
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        try
        {
            while (await stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: stop serving.
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_inProcess is not null)
        {
            await _inProcess.DisposeAsync().ConfigureAwait(false);
        }

        if (_child is not null)
        {
            Stop(_child);
            _child.Dispose();
        }
    }

    private static void Stop(Process child)
    {
        try
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                child.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
