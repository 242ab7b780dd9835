using System.Diagnostics;
using System.Globalization;

namespace Streams.Load.ClusterBench;

/// <summary>What the benchmarks of node processes (<c>streams</c>, <c>firehose</c>) do around their runs: the load average, CPU time, clean-up and the report's output.</summary>
internal static class ClusterBenchmarkRun
{
    /// <summary>CPU time (user + system) a child process has used so far; zero once it exited.</summary>
    public static TimeSpan CpuTime(Process process)
    {
        try
        {
            return process.HasExited ? TimeSpan.Zero : process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>The 1-minute load average (/proc/loadavg), or NaN: other processes sharing the cores show there.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    /// <summary>Deletes a directory and what it holds, if it exists; says so when it cannot.</summary>
    public static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Session.Progress($"could not delete {directory}: {ex.Message}");
        }
    }

    /// <summary>Prints the report and writes it as Markdown to <paramref name="markdownFile"/> when given; returns <paramref name="outcome"/>'s exit code.</summary>
    public static async Task<int> PublishAsync(string text, Func<string> markdown, FileInfo? markdownFile, ClusterOutcome outcome)
    {
        Console.Out.Write(text);
        Console.Out.Flush();
        if (markdownFile is not null)
        {
            await File.WriteAllTextAsync(markdownFile.FullName, markdown(), CancellationToken.None).ConfigureAwait(false);
            Session.Progress($"wrote {markdownFile.FullName}");
        }

        return outcome.ExitCode;
    }
}
