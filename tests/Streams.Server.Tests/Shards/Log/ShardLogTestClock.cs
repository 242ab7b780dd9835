using System.Globalization;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>A wall clock that moves only when told (timers are the system's: the tests use Always or Never durability).</summary>
internal sealed class ShardLogTestClock : TimeProvider
{
    private long _nowMs = DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    public long NowMs => Interlocked.Read(ref _nowMs);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowMs);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _nowMs, (long)by.TotalMilliseconds);
}
