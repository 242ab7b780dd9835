using Microsoft.Extensions.Logging;

namespace Streams.Cluster.Tests;

/// <summary>
/// Writes the SDK's log messages as timeline lines (level filtering is left to the logger
/// factory), so a failing test's message shows what the producer or consumers did about failures.
/// </summary>
internal sealed class TimelineLoggerProvider(Action<string> write) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TimelineLogger(write, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private sealed class TimelineLogger(Action<string> write, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            write($"  [{category} {logLevel}] {formatter(state, exception)}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message.Split('\n')[0]})")}");
    }
}
