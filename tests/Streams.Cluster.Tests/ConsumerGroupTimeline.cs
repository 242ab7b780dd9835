using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Streams.Cluster.Tests;

/// <summary>
/// The consumer tests' timeline: lines stamped with the seconds since the start, written to the
/// test output and kept for the failure message; also a logger provider, so the consumers' own
/// messages (information and above) land in it.
/// </summary>
internal sealed class ConsumerGroupTimeline(ITestOutputHelper output) : ILoggerProvider
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

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
            // A consumer logging after the test ended.
        }
    }

    public ILogger CreateLogger(string categoryName) => new TimelineLogger(this);

    public void Dispose()
    {
    }

    private sealed class TimelineLogger(ConsumerGroupTimeline timeline) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                timeline.Log($"  [{logLevel}] {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message.Split('\n')[0]})")}");
            }
        }
    }
}
