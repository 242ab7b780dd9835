using System.CommandLine;
using System.Reflection;
using Streams.Server.Hosting;

namespace Streams.Cli;

/// <summary><c>streams start [node options...]</c>: runs a node in this process until Ctrl-C or SIGTERM.</summary>
internal static class StartCommand
{
    // Streams.Server grants InternalsVisibleTo to "Streams.Cli", but this assembly is named
    // "streams" (the command's name), so NodeProgram is bound by name here, once, with its exact
    // signature. With InternalsVisibleTo "streams" this becomes a direct call.
    private static readonly Lazy<Func<string[], TextWriter, TextWriter, Task<int>>> _runNode = new(() =>
        typeof(StreamsNode).Assembly.GetType("Streams.Server.Hosting.NodeProgram", throwOnError: true)!
            .GetMethod("RunAsync", BindingFlags.Public | BindingFlags.Static, [typeof(string[]), typeof(TextWriter), typeof(TextWriter)])!
            .CreateDelegate<Func<string[], TextWriter, TextWriter, Task<int>>>());

    public static Command Create(CliContext cli)
    {
        var command = new Command("start", "Run a node in the foreground until Ctrl-C. Every option after 'start' goes to the node: see 'streams start --help'.")
        {
            // The node parses its own options: they reach the action as unmatched tokens, in order.
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(parse => RunNodeAsync([.. parse.UnmatchedTokens], cli.Output, cli.Error));
        return command;
    }

    /// <summary>Runs the node with <paramref name="args"/>; returns its exit code (0 stopped, 1 could not start, 2 bad configuration).</summary>
    public static Task<int> RunNodeAsync(string[] args, TextWriter output, TextWriter error) => _runNode.Value(args, output, error);
}
