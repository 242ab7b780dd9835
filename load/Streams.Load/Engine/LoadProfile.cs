using System.Globalization;

namespace Streams.Load.Engine;

/// <summary>
/// How one scenario runs: its pacing, its length, its warm-up, and how many virtual producers share
/// the target's connections.
/// </summary>
internal sealed record LoadProfile
{
    public PacingKind Pacing { get; init; } = PacingKind.ClosedLoop;

    /// <summary>Operations per second for <see cref="PacingKind.Constant"/>; where a ramp ends.</summary>
    public double Rate { get; init; }

    /// <summary>Where a ramp starts, in operations per second.</summary>
    public double RampFrom { get; init; }

    /// <summary>The measured time.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time run at the profile's pace before measuring, not counted (JIT, connections, caches).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Virtual producers: the workers of a closed loop; for an open loop, the producers operations are dealt to in turn.</summary>
    public int VirtualProducers { get; init; } = 64;

    /// <summary>Operations in flight at most in an open loop; past it the dispatcher waits (the wait counts in the latency).</summary>
    public int MaxInFlight { get; init; } = 100_000;

    /// <summary>How long each timeline interval is.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The pace at time <paramref name="elapsed"/> into the measured part, in operations per second (the warm-up runs at the start rate).</summary>
    public double RateAt(TimeSpan elapsed) => Pacing switch
    {
        PacingKind.Constant => Rate,
        PacingKind.Ramp => elapsed <= TimeSpan.Zero ? RampFrom : RampFrom + ((Rate - RampFrom) * Math.Min(1, elapsed / Duration)),
        _ => double.NaN,
    };

    /// <summary>Says the pace in words, such as <c>open loop 20,000/s</c>.</summary>
    public string Describe(string unit) => Pacing switch
    {
        PacingKind.Constant => string.Create(CultureInfo.InvariantCulture, $"open loop {Rate:N0} {unit}/s"),
        PacingKind.Ramp => string.Create(CultureInfo.InvariantCulture, $"ramp {RampFrom:N0} to {Rate:N0} {unit}/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"closed loop, {VirtualProducers} virtual producers"),
    };

    public void Validate()
    {
        if (Duration <= TimeSpan.Zero || Warmup < TimeSpan.Zero || Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException("The duration and interval must be positive and the warm-up not negative.");
        }

        if (VirtualProducers < 1 || MaxInFlight < 1)
        {
            throw new ArgumentException($"Virtual producers ({VirtualProducers}) and operations in flight ({MaxInFlight}) must be at least 1.");
        }

        if (Pacing != PacingKind.ClosedLoop && (!(Rate > 0) || double.IsInfinity(Rate)))
        {
            throw new ArgumentException($"An open-loop rate must be a positive number of operations per second (was {Rate}).");
        }

        if (Pacing == PacingKind.Ramp && (!(RampFrom > 0) || double.IsInfinity(RampFrom)))
        {
            throw new ArgumentException($"A ramp must start at a positive rate (was {RampFrom}).");
        }
    }
}
