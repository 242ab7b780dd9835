using System.Diagnostics;

namespace Streams.Cluster.Tests;

/// <summary>What the tests need outside themselves: a dotnet host and the server program beside the tests.</summary>
internal static class Tools
{
    /// <summary>The server, copied next to the tests by the ProjectReference to src/Streams.Server.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Streams.Server.dll");

    /// <summary>The dotnet that runs the tests (<c>dotnet test</c> sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    /// <summary>The POSIX shell that keeps each node on a leash (see NodeProcess).</summary>
    public const string Shell = "/bin/sh";

    /// <summary>Fails, naming what is missing, when the server program or a dotnet host cannot be found.</summary>
    public static void Require()
    {
        if (!File.Exists(ServerDll))
        {
            throw new FileNotFoundException(
                $"The node program {ServerDll} is missing: it is built and copied here through the ProjectReference to src/Streams.Server. "
                + "Build the test project (dotnet build tests/Streams.Cluster.Tests) rather than running stale binaries.",
                ServerDll);
        }

        if (!File.Exists(Path.Combine(AppContext.BaseDirectory, "Streams.Server.runtimeconfig.json")))
        {
            throw new FileNotFoundException("Streams.Server.runtimeconfig.json is missing beside the tests: `dotnet Streams.Server.dll` cannot run without it; rebuild the test project.");
        }

        if (!File.Exists(Shell))
        {
            throw new FileNotFoundException($"The tool {Shell} is missing: each node runs under a small sh script that kills it if the test process dies.", Shell);
        }

        if (DotnetHost == "dotnet" && !OnPath("dotnet"))
        {
            throw new InvalidOperationException("The tool `dotnet` was not found (neither DOTNET_HOST_PATH nor PATH names one); the nodes run as `dotnet Streams.Server.dll`.");
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, tool)));
}

/// <summary>
/// Kills every node still running when the test process exits, whatever happened (a test that
/// threw past its cleanup, an aborted run): no orphan nodes holding ports.
/// </summary>
internal static class ProcessReaper
{
    private static readonly Lock _lock = new();
    private static readonly List<Process> _processes = [];

    static ProcessReaper()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void Track(Process process)
    {
        lock (_lock)
        {
            _processes.RemoveAll(IsGone);
            _processes.Add(process);
        }
    }

    private static bool IsGone(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void KillAll()
    {
        lock (_lock)
        {
            foreach (var process in _processes)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone already, or disposed.
                }
            }
        }
    }
}
