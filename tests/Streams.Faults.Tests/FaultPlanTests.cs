using System.Globalization;
using Streams.Faults.Nemesis;

namespace Streams.Faults.Tests;

/// <summary>The nemesis's plan: reproducible from its seed, filling the run, and every fault well formed.</summary>
public sealed class FaultPlanTests
{
    private static readonly FaultPlanOptions _all = new() { Kinds = FaultPlanOptions.AllKinds };
    private static readonly TimeSpan _hour = TimeSpan.FromHours(1);

    [Fact]
    public void The_same_seed_gives_the_same_plan()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var first = FaultPlan.Draw(new Random(seed), 5, TimeSpan.FromMinutes(10), _all);
            var second = FaultPlan.Draw(new Random(seed), 5, TimeSpan.FromMinutes(10), _all);

            Assert.NotEmpty(first);
            Assert.Equal(Text(first), Text(second));
        }
    }

    [Fact]
    public void Different_seeds_give_different_plans()
    {
        var plans = Enumerable.Range(0, 50).Select(seed => string.Join('\n', Text(FaultPlan.Draw(new Random(seed), 5, TimeSpan.FromMinutes(10), _all)))).ToList();

        Assert.Equal(plans.Count, plans.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_plan_fills_its_length_without_exceeding_it_and_keeps_every_time_within_its_bounds()
    {
        var options = _all with
        {
            MinFault = TimeSpan.FromSeconds(3),
            MaxFault = TimeSpan.FromSeconds(9),
            MinQuiet = TimeSpan.FromSeconds(1),
            MaxQuiet = TimeSpan.FromSeconds(5),
        };
        foreach (var minutes in new[] { 0.1, 0.5, 1, 3, 10, 60 })
        {
            var length = TimeSpan.FromMinutes(minutes);
            for (var seed = 0; seed < 50; seed++)
            {
                var plan = FaultPlan.Draw(new Random(seed), 4, length, options);

                var total = plan.Aggregate(TimeSpan.Zero, (sum, step) => sum + step.QuietBefore + step.Duration);
                Assert.True(total <= length, $"seed {seed}: {total} > {length}");
                // The plan stops only at a step that would not fit, and no step is longer than this.
                Assert.True(length - total < options.MaxQuiet + options.MaxFault, $"seed {seed}: {total} leaves too much of {length}");
                Assert.All(plan, step =>
                {
                    Assert.InRange(step.Duration, options.MinFault, options.MaxFault);
                    Assert.InRange(step.QuietBefore, options.MinQuiet, options.MaxQuiet);
                });
            }
        }
    }

    [Fact]
    public void A_run_shorter_than_the_shortest_step_has_no_faults()
    {
        var plan = FaultPlan.Draw(new Random(1), 3, _all.MinQuiet + _all.MinFault - TimeSpan.FromMilliseconds(1), _all);

        Assert.Empty(plan);
    }

    [Fact]
    public void Fixed_times_are_kept_exactly()
    {
        var options = _all with { MinFault = TimeSpan.FromSeconds(5), MaxFault = TimeSpan.FromSeconds(5), MinQuiet = TimeSpan.FromSeconds(2), MaxQuiet = TimeSpan.FromSeconds(2) };

        var plan = FaultPlan.Draw(new Random(3), 3, TimeSpan.FromSeconds(70), options);

        Assert.Equal(10, plan.Count);
        Assert.All(plan, step => Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)), (step.QuietBefore, step.Duration)));
    }

    [Fact]
    public void Kinds_are_dealt_from_shuffled_decks_so_every_kind_comes_once_per_deck()
    {
        var kinds = FaultPlanOptions.AllKinds;
        var decks = new HashSet<string>(StringComparer.Ordinal);
        for (var seed = 0; seed < 30; seed++)
        {
            // Every step lasts at most 18 s, so ten minutes hold more than three decks.
            var plan = FaultPlan.Draw(new Random(seed), 5, TimeSpan.FromMinutes(10), _all);
            Assert.True(plan.Count >= 3 * kinds.Count, $"seed {seed}: {plan.Count} steps");

            for (var deck = 0; deck + kinds.Count <= plan.Count; deck += kinds.Count)
            {
                var dealt = plan.Skip(deck).Take(kinds.Count).Select(s => s.Fault.Kind).ToList();
                Assert.Equal(kinds.Order(), dealt.Order());
                decks.Add(string.Join(',', dealt));
            }
        }

        // The decks are shuffled, not dealt in one order.
        Assert.True(decks.Count > 10, $"{decks.Count} different decks");
    }

    [Fact]
    public void Every_kind_in_the_options_appears_in_a_plan_long_enough_for_one_deck()
    {
        var options = new FaultPlanOptions { Kinds = [FaultKind.Pause, FaultKind.Loss, FaultKind.CrashLeader] };
        for (var seed = 0; seed < 30; seed++)
        {
            // Three steps of at most 18 s fit in a minute.
            var plan = FaultPlan.Draw(new Random(seed), 3, TimeSpan.FromMinutes(1), options);

            Assert.Equal(options.Kinds.Order(), plan.Select(s => s.Fault.Kind).Distinct().Order());
        }
    }

    [Fact]
    public void Kinds_not_in_the_options_never_appear()
    {
        var options = new FaultPlanOptions { Kinds = [FaultKind.Pause, FaultKind.Crash] };
        for (var seed = 0; seed < 30; seed++)
        {
            var plan = FaultPlan.Draw(new Random(seed), 3, _hour, options);

            Assert.All(plan, step => Assert.Contains(step.Fault.Kind, options.Kinds));
        }
    }

    [Fact]
    public void A_single_kind_fills_the_whole_plan()
    {
        var plan = FaultPlan.Draw(new Random(7), 3, TimeSpan.FromMinutes(5), new FaultPlanOptions { Kinds = [FaultKind.IsolateOne] });

        Assert.NotEmpty(plan);
        Assert.All(plan, step => Assert.Equal(FaultKind.IsolateOne, step.Fault.Kind));
    }

    [Fact]
    public void Hosts_are_numbered_from_one_to_the_number_of_hosts()
    {
        for (var hosts = 2; hosts <= 7; hosts++)
        {
            var seen = new HashSet<int>();
            for (var seed = 0; seed < 20; seed++)
            {
                foreach (var step in FaultPlan.Draw(new Random(seed), hosts, _hour, _all))
                {
                    Assert.All(step.Fault.Hosts.Concat(step.Fault.Others), host => Assert.InRange(host, 1, hosts));
                    Assert.Equal(step.Fault.Hosts.Count, step.Fault.Hosts.Distinct().Count());
                    Assert.Equal(step.Fault.Others.Count, step.Fault.Others.Distinct().Count());
                    seen.UnionWith(step.Fault.Hosts);
                }
            }

            // Every host gets hit.
            Assert.Equal(Enumerable.Range(1, hosts), seen.Order());
        }
    }

    [Fact]
    public void A_partition_in_halves_puts_a_minority_against_the_rest()
    {
        for (var hosts = 3; hosts <= 8; hosts++)
        {
            var sizes = new HashSet<int>();
            for (var seed = 0; seed < 200; seed++)
            {
                var fault = FaultPlan.Draw(new Random(seed), hosts, FaultKind.PartitionHalves);

                Assert.InRange(fault.Hosts.Count, 1, (hosts - 1) / 2);
                Assert.True(fault.Hosts.Count < fault.Others.Count, $"{fault} on {hosts} hosts");
                Assert.Empty(fault.Hosts.Intersect(fault.Others));
                Assert.Equal(Enumerable.Range(1, hosts), fault.Hosts.Concat(fault.Others).Order());
                Assert.Equal(fault.Hosts.Order(), fault.Hosts);
                Assert.Equal(fault.Others.Order(), fault.Others);
                sizes.Add(fault.Hosts.Count);
            }

            // Every minority size comes up.
            Assert.Equal(Enumerable.Range(1, (hosts - 1) / 2), sizes.Order());
        }
    }

    [Fact]
    public void A_partition_in_halves_of_two_hosts_is_one_against_one()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var fault = FaultPlan.Draw(new Random(seed), 2, FaultKind.PartitionHalves);

            Assert.Single(fault.Hosts);
            Assert.Single(fault.Others);
            Assert.NotEqual(fault.Hosts[0], fault.Others[0]);
        }
    }

    [Fact]
    public void Isolating_one_host_cuts_it_off_from_all_others()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var fault = FaultPlan.Draw(new Random(seed), 5, FaultKind.IsolateOne);

            var one = Assert.Single(fault.Hosts);
            Assert.Equal(Enumerable.Range(1, 5).Where(h => h != one), fault.Others);
        }
    }

    [Fact]
    public void A_one_way_partition_names_two_different_hosts()
    {
        for (var hosts = 2; hosts <= 5; hosts++)
        {
            for (var seed = 0; seed < 50; seed++)
            {
                var fault = FaultPlan.Draw(new Random(seed), hosts, FaultKind.PartitionOneWay);

                var from = Assert.Single(fault.Hosts);
                var to = Assert.Single(fault.Others);
                Assert.NotEqual(from, to);
                Assert.Equal($"one-way partition {from} -> {to}", fault.Describe());
            }
        }
    }

    [Fact]
    public void A_leader_crash_names_no_host_until_it_runs()
    {
        var fault = FaultPlan.Draw(new Random(1), 5, FaultKind.CrashLeader);

        Assert.Empty(fault.Hosts);
        Assert.Empty(fault.Others);
        Assert.Equal("crash a shard leader", fault.Describe());
    }

    [Fact]
    public void A_pause_or_crash_hits_one_host()
    {
        foreach (var kind in new[] { FaultKind.Pause, FaultKind.Crash })
        {
            for (var seed = 0; seed < 20; seed++)
            {
                var fault = FaultPlan.Draw(new Random(seed), 4, kind);

                Assert.InRange(Assert.Single(fault.Hosts), 1, 4);
                Assert.Empty(fault.Others);
            }
        }
    }

    [Fact]
    public void A_delay_is_20_to_200_ms_with_jitter_up_to_half_of_it()
    {
        var amounts = new HashSet<int>();
        for (var seed = 0; seed < 500; seed++)
        {
            var fault = FaultPlan.Draw(new Random(seed), 3, FaultKind.Delay);

            Assert.InRange(Assert.Single(fault.Hosts), 1, 3);
            Assert.Empty(fault.Others);
            Assert.InRange(fault.Amount, 20, 200);
            Assert.InRange(fault.Jitter, 0, fault.Amount / 2);
            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"delay {fault.Hosts[0]} {fault.Amount} ms ± {fault.Jitter} ms"), fault.Describe());
            amounts.Add(fault.Amount);
        }

        Assert.Contains(amounts, a => a < 50);
        Assert.Contains(amounts, a => a > 170);
    }

    [Fact]
    public void A_loss_drops_5_to_40_percent()
    {
        var amounts = new HashSet<int>();
        for (var seed = 0; seed < 500; seed++)
        {
            var fault = FaultPlan.Draw(new Random(seed), 3, FaultKind.Loss);

            Assert.InRange(Assert.Single(fault.Hosts), 1, 3);
            Assert.InRange(fault.Amount, 5, 40);
            Assert.Equal(0, fault.Jitter);
            amounts.Add(fault.Amount);
        }

        Assert.Equal(Enumerable.Range(5, 36), amounts.Order());
    }

    [Fact]
    public void A_reorder_sends_10_to_50_percent_ahead()
    {
        var amounts = new HashSet<int>();
        for (var seed = 0; seed < 500; seed++)
        {
            var fault = FaultPlan.Draw(new Random(seed), 3, FaultKind.Reorder);

            Assert.InRange(Assert.Single(fault.Hosts), 1, 3);
            Assert.InRange(fault.Amount, 10, 50);
            Assert.Equal(0, fault.Jitter);
            amounts.Add(fault.Amount);
        }

        Assert.Equal(Enumerable.Range(10, 41), amounts.Order());
    }

    [Fact]
    public void Link_faults_in_a_plan_have_sensible_amounts()
    {
        var options = new FaultPlanOptions { Kinds = FaultPlanOptions.LinkKinds };
        var plan = FaultPlan.Draw(new Random(11), 5, _hour, options);

        Assert.Equal(FaultPlanOptions.LinkKinds.Order(), plan.Select(s => s.Fault.Kind).Distinct().Order());
        Assert.All(plan, step =>
        {
            var (low, high) = step.Fault.Kind switch
            {
                FaultKind.Delay => (20, 200),
                FaultKind.Loss => (5, 40),
                _ => (10, 50),
            };
            Assert.InRange(step.Fault.Amount, low, high);
            Assert.InRange(step.Fault.Jitter, 0, step.Fault.Amount / 2);
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-3)]
    public void Drawing_a_plan_for_fewer_than_two_hosts_throws(int hosts)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FaultPlan.Draw(new Random(1), hosts, _hour, _all));
    }

    [Fact]
    public void Drawing_a_plan_with_no_kinds_throws()
    {
        var error = Assert.Throws<ArgumentException>(() => FaultPlan.Draw(new Random(1), 3, _hour, new FaultPlanOptions { Kinds = [] }));

        Assert.Equal("options", error.ParamName);
    }

    /// <summary>A plan as text (records holding lists do not compare by content).</summary>
    private static List<string> Text(IReadOnlyList<FaultStep> plan) =>
        [.. plan.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.QuietBefore.Ticks} {s.Fault.Kind} [{string.Join(',', s.Fault.Hosts)}] [{string.Join(',', s.Fault.Others)}] {s.Fault.Amount} {s.Fault.Jitter} {s.Duration.Ticks}"))];
}
