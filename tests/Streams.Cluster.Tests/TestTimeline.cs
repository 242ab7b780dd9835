using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Streams.Cluster.Tests;

/// <summary>
/// A cluster test's timeline: lines stamped with the seconds since the start, written to the
/// test output and kept for the failure message. <see cref="LoggerFactory"/> puts the SDK's own
/// messages (information and above) in it.
/// </summary>
internal sealed class TestTimeline(ITestOutputHelper output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The clock the lines are stamped with, for others that stamp events (the write ledger).</summary>
    public Stopwatch Clock => _clock;

    public List<string> Lines { get; } = [];

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Log(string line)
    {
        var stamped = $"{_clock.Elapsed.TotalSeconds,7:F2}s {line}";
        lock (Lines)
        {
            Lines.Add(stamped);
        }

        try
        {
            output.WriteLine(stamped);
        }
        catch (InvalidOperationException)
        {
            // A client logging after the test ended.
        }
    }

    /// <summary>A logger factory writing information and above to the timeline; the caller disposes it.</summary>
    public ILoggerFactory LoggerFactory() =>
        Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(new TimelineLoggerProvider(Log)).SetMinimumLevel(LogLevel.Information));
}
