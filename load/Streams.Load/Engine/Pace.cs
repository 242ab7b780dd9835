using System.Diagnostics;

namespace Streams.Load.Engine;

/// <summary>
/// One step of waiting towards a <see cref="Stopwatch"/> timestamp on a dedicated thread: a 1 ms
/// sleep while it is more than 1.5 ms away (the OS timer's granularity), a yield closer to it
/// (the core goes to whoever needs it), a short spin for the last 0.2 ms. Callers loop on it.
/// Precise to tens of microseconds without holding a core on a 2-core machine.
/// </summary>
internal static class Pace
{
    private static readonly long _sleepBeyond = Stopwatch.Frequency * 15 / 10_000;
    private static readonly long _yieldBeyond = Stopwatch.Frequency * 2 / 10_000;

    public static void WaitTowards(long timestamp)
    {
        var ahead = timestamp == long.MaxValue ? long.MaxValue : timestamp - Stopwatch.GetTimestamp();
        if (ahead > _sleepBeyond)
        {
            Thread.Sleep(1);
        }
        else if (ahead > _yieldBeyond)
        {
            Thread.Yield();
        }
        else if (ahead > 0)
        {
            Thread.SpinWait(20);
        }
    }
}
