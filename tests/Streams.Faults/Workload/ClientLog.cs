using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Faults.Checking;

namespace Streams.Faults.Workload;

/// <summary>
/// Keeps the SDK's log messages (producers' retries and restarts, consumers' lease changes) with the
/// run's clock, so that a failed run's <c>client.log</c> shows what the clients did around a finding.
/// </summary>
internal sealed class ClientLog(History history) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    private double Now => history.Now;

    public IReadOnlyCollection<string> Lines => _lines;

    public ILoggerFactory CreateFactory(LogLevel minimum) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(minimum).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private sealed class Logger(ClientLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log._lines.Enqueue(string.Create(
                CultureInfo.InvariantCulture,
                $"{log.Now,9:F3} s [{category} {logLevel}] {formatter(state, exception)}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message.Split('\n')[0]})")}"));
    }
}
