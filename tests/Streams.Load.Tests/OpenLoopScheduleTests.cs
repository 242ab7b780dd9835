using FsCheck;
using FsCheck.Fluent;
using Streams.Load.Engine;

namespace Streams.Load.Tests;

/// <summary>The open-loop schedule: when each operation is meant to start, at a constant rate and on a ramp.</summary>
public sealed class OpenLoopScheduleTests
{
    [Fact]
    public void A_constant_rate_spaces_operations_evenly_after_the_warm_up()
    {
        var schedule = new OpenLoopSchedule(new LoadProfile { Pacing = PacingKind.Constant, Rate = 1000, Warmup = TimeSpan.FromSeconds(2), Duration = TimeSpan.FromSeconds(10) });

        Assert.Equal(2000, schedule.WarmupOperations);
        Assert.Equal(12_000, schedule.TotalOperations);
        Assert.Equal(0.0, schedule.IntendedSeconds(0));
        Assert.Equal(1.999, schedule.IntendedSeconds(1999), 9);
        Assert.Equal(2.0, schedule.IntendedSeconds(2000), 9);
        Assert.Equal(7.5, schedule.IntendedSeconds(7500), 9);
    }

    [Fact]
    public void A_ramp_sends_as_many_operations_as_the_area_under_its_rate()
    {
        // From 100/s to 1,100/s over 10 s: 6,000 operations, half of them by the time the rate is sqrt((100^2 + 1100^2) / 2).
        var schedule = new OpenLoopSchedule(new LoadProfile { Pacing = PacingKind.Ramp, RampFrom = 100, Rate = 1100, Warmup = TimeSpan.Zero, Duration = TimeSpan.FromSeconds(10) });

        Assert.Equal(6000, schedule.TotalOperations);
        Assert.Equal(10.0, schedule.IntendedSeconds(5999), 2);
        var middle = schedule.IntendedSeconds(3000);
        var rateThen = 100 + (100 * middle);
        Assert.Equal(Math.Sqrt(((100.0 * 100) + (1100.0 * 1100)) / 2), rateThen, 1);
    }

    [Fact]
    public void Intended_times_rise_and_due_counts_agree_with_them()
    {
        var profiles = from pacing in Gen.Elements(PacingKind.Constant, PacingKind.Ramp)
                       from rate in Gen.Choose(1, 50_000)
                       from start in Gen.Choose(1, 50_000)
                       from warmup in Gen.Choose(0, 3)
                       from duration in Gen.Choose(1, 20)
                       select new LoadProfile { Pacing = pacing, Rate = rate, RampFrom = start, Warmup = TimeSpan.FromSeconds(warmup), Duration = TimeSpan.FromSeconds(duration) };
        Prop.ForAll(profiles.ToArbitrary(), profile =>
        {
            var schedule = new OpenLoopSchedule(profile);
            var random = new Random(profile.GetHashCode());
            for (var i = 0; i < 200; i++)
            {
                var k = random.NextInt64(0, Math.Max(1, schedule.TotalOperations - 1));
                var at = schedule.IntendedSeconds(k);
                var next = schedule.IntendedSeconds(k + 1);
                if (next < at - 1e-9)
                {
                    return false;
                }

                // Operation k is due at its intended time (rounding aside), and not a little before.
                if (schedule.DueBy(at + 1e-7) < k + 1 || schedule.DueBy(at - 1e-4) > k + 1)
                {
                    return false;
                }
            }

            var end = (profile.Warmup + profile.Duration).TotalSeconds;
            return schedule.IntendedSeconds(schedule.TotalOperations - 1) <= end + 1e-6 && schedule.DueBy(end + 1) == schedule.TotalOperations;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(true, 0, 1, "open-loop rate")]
    [InlineData(false, 10, 0, "ramp must start")]
    public void A_profile_without_a_rate_is_refused_with_what_to_set(bool constant, double rate, double from, string message)
    {
        var pacing = constant ? PacingKind.Constant : PacingKind.Ramp;
        var error = Assert.Throws<ArgumentException>(() => new LoadProfile { Pacing = pacing, Rate = rate, RampFrom = from }.Validate());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_closed_loop_has_no_schedule() =>
        Assert.Throws<ArgumentException>(() => new OpenLoopSchedule(new LoadProfile()));
}
