namespace Streams.Load.Engine;

/// <summary>
/// When each operation of an open loop is meant to start, counted from the start of the warm-up:
/// the warm-up at the profile's starting rate, then the measured time at a constant rate or a
/// linear ramp. Pure: latency is measured from these times, not from when an operation was
/// actually sent, so a target that stalls cannot hide the operations that queued behind it
/// (coordinated omission).
/// </summary>
internal sealed class OpenLoopSchedule
{
    private readonly double _warmupSeconds;
    private readonly double _durationSeconds;
    private readonly double _from;
    private readonly double _to;
    private readonly long _warmupOperations;

    public OpenLoopSchedule(LoadProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        if (profile.Pacing == PacingKind.ClosedLoop)
        {
            throw new ArgumentException("A closed loop has no schedule.", nameof(profile));
        }

        _warmupSeconds = profile.Warmup.TotalSeconds;
        _durationSeconds = profile.Duration.TotalSeconds;
        _from = profile.Pacing == PacingKind.Ramp ? profile.RampFrom : profile.Rate;
        _to = profile.Rate;
        _warmupOperations = (long)Math.Ceiling(_warmupSeconds * _from);
        TotalOperations = _warmupOperations + (long)Math.Floor(Cumulative(_durationSeconds));
    }

    /// <summary>Operations meant to start during the warm-up (they are sent, not measured).</summary>
    public long WarmupOperations => _warmupOperations;

    /// <summary>Every operation of the run, warm-up included.</summary>
    public long TotalOperations { get; }

    /// <summary>When operation <paramref name="index"/> (from 0) is meant to start, in seconds from the start of the warm-up.</summary>
    public double IntendedSeconds(long index)
    {
        if (index < _warmupOperations)
        {
            return index / _from;
        }

        // The measured part: solve cumulative(t) = k for t.
        var k = index - _warmupOperations;
        var slope = (_to - _from) / _durationSeconds;
        var t = Math.Abs(slope) < 1e-12
            ? k / _from
            : (-_from + Math.Sqrt(Math.Max(0, (_from * _from) + (2 * slope * k)))) / slope;
        return _warmupSeconds + t;
    }

    /// <summary>How many operations are meant to have started by <paramref name="seconds"/> from the start of the warm-up.</summary>
    public long DueBy(double seconds)
    {
        if (seconds < 0)
        {
            return 0;
        }

        if (seconds < _warmupSeconds)
        {
            return Math.Min(_warmupOperations, (long)Math.Floor(seconds * _from) + 1);
        }

        var measured = Math.Min(seconds - _warmupSeconds, _durationSeconds);
        return Math.Min(TotalOperations, _warmupOperations + (long)Math.Floor(Cumulative(measured)) + 1);
    }

    // Operations meant to start in the first t seconds of the measured part.
    private double Cumulative(double t) => (_from * t) + ((_to - _from) * t * t / (2 * _durationSeconds));
}
