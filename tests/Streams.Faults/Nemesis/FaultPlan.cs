namespace Streams.Faults.Nemesis;

/// <summary>
/// Draws the faults of a run from a seeded <see cref="Random"/>: one fault at a time, each held for a
/// while and then healed, with quiet time between, until the run's length is filled. The same seed
/// and options give the same plan. The kinds are dealt round-robin from shuffled decks, so that a
/// short run still sees each kind, and the hosts are drawn at random.
/// </summary>
internal static class FaultPlan
{
    public static IReadOnlyList<FaultStep> Draw(Random random, int hosts, TimeSpan length, FaultPlanOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 2);
        if (options.Kinds.Count == 0)
        {
            throw new ArgumentException("A plan needs at least one fault kind.", nameof(options));
        }

        var steps = new List<FaultStep>();
        var deck = new Queue<FaultKind>();
        var used = TimeSpan.Zero;
        while (true)
        {
            var quiet = Between(random, options.MinQuiet, options.MaxQuiet);
            var duration = Between(random, options.MinFault, options.MaxFault);
            if (used + quiet + duration > length)
            {
                return steps;
            }

            if (deck.Count == 0)
            {
                foreach (var kind in options.Kinds.OrderBy(_ => random.Next()))
                {
                    deck.Enqueue(kind);
                }
            }

            steps.Add(new FaultStep(quiet, Draw(random, hosts, deck.Dequeue()), duration));
            used += quiet + duration;
        }
    }

    /// <summary>One fault of <paramref name="kind"/> on hosts 1..<paramref name="hosts"/>.</summary>
    public static Fault Draw(Random random, int hosts, FaultKind kind)
    {
        var shuffled = Enumerable.Range(1, hosts).OrderBy(_ => random.Next()).ToList();
        var one = shuffled[0];
        var rest = shuffled.Skip(1).Order().ToList();
        switch (kind)
        {
            case FaultKind.PartitionHalves:
                // A minority (at least one host) against the rest.
                var minority = shuffled.Take(random.Next(1, ((hosts - 1) / 2) + 1)).Order().ToList();
                return new Fault(kind, minority, [.. shuffled.Except(minority).Order()]);
            case FaultKind.IsolateOne:
                return new Fault(kind, [one], rest);
            case FaultKind.PartitionOneWay:
                return new Fault(kind, [one], [rest[random.Next(rest.Count)]]);
            case FaultKind.CrashLeader:
                // The leader is known only when the fault starts.
                return new Fault(kind, [], []);
            case FaultKind.Delay:
                var delay = random.Next(20, 201);
                return new Fault(kind, [one], [], delay, random.Next(0, (delay / 2) + 1));
            case FaultKind.Loss:
                return new Fault(kind, [one], [], random.Next(5, 41));
            case FaultKind.Reorder:
                return new Fault(kind, [one], [], random.Next(10, 51), 0);
            default:
                return new Fault(kind, [one], []);
        }
    }

    private static TimeSpan Between(Random random, TimeSpan min, TimeSpan max) =>
        min + TimeSpan.FromMilliseconds(random.NextDouble() * (max - min).TotalMilliseconds);
}
