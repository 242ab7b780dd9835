using System.Diagnostics;
using Streams.Load.Engine;

namespace Streams.Load.Targets;

/// <summary>
/// A target whose every operation takes a known, fixed time, and that can stall: operations that
/// arrive during a stall complete when it ends (or, if later, their own delay after arriving). It
/// proves the harness: it must report the delay, and a stall must show in the high percentiles.
/// The delays are kept by <see cref="DelayLine"/>, precise to well under a millisecond.
/// </summary>
internal sealed class FakeTarget(TimeSpan delay, TimeSpan stallStart = default, TimeSpan stallLength = default) : LoadTarget
{
    private readonly DelayLine _line = new();
    private long _origin;

    public override string System => "fake";

    public override string Setup => stallLength > TimeSpan.Zero
        ? $"fixed {delay.TotalMilliseconds:F1} ms per operation, stalled {stallLength.TotalSeconds:F1} s from {stallStart.TotalSeconds:F1} s"
        : $"fixed {delay.TotalMilliseconds:F1} ms per operation";

    public override string Workload => "no data";

    public override string Guarantee => "none (a timer)";

    public override int RecordBytes => 0;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _origin = Stopwatch.GetTimestamp();
        return Task.CompletedTask;
    }

    public override ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        var due = now + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        if (stallLength > TimeSpan.Zero)
        {
            var stallFrom = _origin + (long)(stallStart.TotalSeconds * Stopwatch.Frequency);
            var stallTo = stallFrom + (long)(stallLength.TotalSeconds * Stopwatch.Frequency);
            if (now >= stallFrom && now < stallTo)
            {
                due = Math.Max(due, stallTo);
            }
        }

        return _line.WaitUntilAsync(due);
    }

    public override async ValueTask DisposeAsync()
    {
        await _line.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
