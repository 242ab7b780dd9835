using Streams.Server.Configuration;

namespace Streams.Server.Hosting;

/// <summary>
/// The program: runs a node until SIGTERM or Ctrl-C. Exit codes: 0 after a graceful stop (or
/// <c>--help</c>), 1 when the node could not start, 2 when the configuration is invalid.
/// </summary>
internal static class NodeProgram
{
    public const int ExitOk = 0;
    public const int ExitStartFailed = 1;
    public const int ExitInvalidConfiguration = 2;

    // Thread-pool threads the node starts with (see RunAsync).
    private const int MinWorkerThreads = 32;

    /// <summary>Runs a node from <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (CommandLineSwitches.IsHelp(args))
        {
            await output.WriteAsync(CommandLineSwitches.Usage);
            return ExitOk;
        }

        // Every shard replica's group commit blocks a thread-pool thread in fsync; on a small
        // machine the pool would otherwise grow slowly (about one thread per half second) while
        // requests queue behind those fsyncs.
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, MinWorkerThreads), completionPorts);

        StreamsNode node;
        try
        {
            node = StreamsNode.Create(args);
        }
        catch (NodeConfigurationException ex)
        {
            await error.WriteLineAsync("streams: invalid configuration:");
            foreach (var problem in ex.Problems)
            {
                await error.WriteLineAsync($"  - {problem}");
            }

            await error.WriteLineAsync("Run with --help for the options.");
            return ExitInvalidConfiguration;
        }

        await using (node)
        {
            try
            {
                await node.StartAsync();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A port in use, a data directory that cannot be created: say which, without a stack trace.
                await error.WriteLineAsync($"streams: could not start: {ex.Message}");
                return ExitStartFailed;
            }

            await output.WriteLineAsync(node.ListeningLine);
            await output.FlushAsync();
            await node.WaitForShutdownAsync();
        }

        return ExitOk;
    }
}
