using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>Keeps what was logged, to check that recovery said what it did.</summary>
internal sealed class ShardLogTestLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));

    public List<string> Messages(int eventId) => [.. Entries.Where(e => e.EventId == eventId).Select(e => e.Message)];
}
