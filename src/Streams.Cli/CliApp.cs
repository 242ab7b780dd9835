using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Streams.Cli;

/// <summary>The <c>streams</c> command, runnable in-process with its own input, output and cancellation.</summary>
internal static class CliApp
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var cli = new CliContext(input, output, error);
        var start = StartCommand.Create(cli);
        var root = new RootCommand("streams: a distributed streaming log. Manage streams and the cluster, put and read records, run a node.")
        {
            start,
            StreamCommands.Create(cli),
            PutCommand.Create(cli),
            GetCommand.Create(cli),
            TailCommand.Create(cli),
            GroupCommands.Create(cli),
            FirehoseCommands.Create(cli),
            ClusterCommands.Create(cli),
        };
        root.Options.Add(cli.Endpoint);
        root.Options.Add(cli.Timeout);
        root.Options.Add(cli.Format);

        var parse = root.Parse(args);
        if (parse.CommandResult.Command == start && parse.Action is HelpAction)
        {
            // The node's options are its own: `streams start --help` prints them.
            return await StartCommand.RunNodeAsync(["--help"], output, error);
        }

        if (parse.Action is ParseErrorAction)
        {
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync($"error: {problem.Message}");
            }

            await error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Ctrl-C is the caller's: it cancels cancellationToken (Program.cs does that).
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Parent is null ? "streams" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
