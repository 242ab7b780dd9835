using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Metadata;

/// <summary>The lease assignment on its own: fair, complete, sticky, and only granting with a new epoch.</summary>
public sealed class LeaseAssignerTests
{
    private static readonly ImmutableSortedDictionary<string, GroupShard> _noState = ImmutableSortedDictionary.Create<string, GroupShard>(StringComparer.Ordinal);

    // A shard's prior state: its owner (an index into the members, past them a member that is gone, or -1), epoch and end.
    private static readonly Gen<(int Owner, int Epoch, bool Ended)> _priors =
        from owner in Gen.Choose(-1, 13) from epoch in Gen.Choose(0, 5) from ended in Gen.Frequency((6, Gen.Constant(false)), (1, Gen.Constant(true))) select (owner, epoch, ended);

    private static string Member(int i) => $"m{i:D2}";

    private static ImmutableArray<ShardRecord> Shards(int count, Func<int, ImmutableArray<string>>? parents = null)
    {
        var ranges = HashKeyRange.Even(Math.Max(count, 1));
        return [.. Enumerable.Range(0, count).Select(i => new ShardRecord
        {
            ShardNumber = i,
            ShardId = ShardIds.Format(i),
            GroupId = 2 + i,
            HashKeyRange = ranges[Math.Min(i, ranges.Length - 1)],
            ParentShardIds = parents?.Invoke(i) ?? [],
            IsOpen = true,
            CreatedAt = DateTimeOffset.UnixEpoch,
            StartingSequenceNumber = SequenceNumber.FirstAt(1),
            Replicas = ["node-1"],
        })];
    }

    private static Dictionary<string, int> Counts(LeaseAssignment assignment, IEnumerable<string> members) =>
        members.ToDictionary(m => m, m => assignment.Shards.Values.Count(s => s.Owner == m));

    [Fact]
    public void Any_shards_over_any_members_are_all_leased_once_with_counts_differing_by_at_most_one() =>
        Prop.ForAll(
            Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(_priors, n)).ToArbitrary(),
            Gen.Choose(1, 10).ToArbitrary(),
            (priors, memberCount) =>
            {
                var shards = Shards(priors.Length);
                var members = Enumerable.Range(0, memberCount).Select(Member).ToList();
                var state = _noState.ToBuilder();
                for (var i = 0; i < priors.Length; i++)
                {
                    var (owner, epoch, ended) = priors[i];
                    state[ShardIds.Format(i)] = new GroupShard { Owner = owner < 0 || ended ? null : Member(owner), Epoch = epoch, ShardEnd = ended };
                }

                var before = state.ToImmutable();
                var assignment = LeaseAssigner.Assign(shards, before, members);
                var leasable = LeaseAssigner.Leasable(shards, before);
                Assert.Equal(priors.Count(p => !p.Ended), leasable.Length);

                foreach (var (id, after) in assignment.Shards)
                {
                    var prior = before[id];
                    if (leasable.Contains(id))
                    {
                        Assert.Contains(after.Owner, members);
                    }
                    else
                    {
                        Assert.Null(after.Owner);
                    }

                    // Only a grant moves the epoch, by one.
                    Assert.Equal(after.Owner is not null && after.Owner != prior.Owner ? prior.Epoch + 1 : prior.Epoch, after.Epoch);
                    Assert.Equal(prior.ShardEnd, after.ShardEnd);
                }

                var counts = Counts(assignment, members).Values;
                Assert.True(counts.Max() - counts.Min() <= 1, $"unfair: {string.Join(",", counts)}");
                Assert.Equal(leasable.Length, counts.Sum());
                Assert.Equal(before.Any(p => p.Value.Owner != assignment.Shards[p.Key].Owner), assignment.Moved);

                // Assigning again changes nothing.
                Assert.False(LeaseAssigner.Assign(shards, assignment.Shards, members).Moved);
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_join_moves_only_the_newcomer_s_share_and_a_leave_only_the_leaver_s_shards() =>
        Prop.ForAll(Gen.Choose(0, 40).ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), (shardCount, memberCount) =>
        {
            var shards = Shards(shardCount);
            var members = Enumerable.Range(0, memberCount).Select(Member).ToList();
            var balanced = LeaseAssigner.Assign(shards, _noState, members).Shards;

            var newcomer = Member(memberCount);
            var joined = LeaseAssigner.Assign(shards, balanced, [.. members, newcomer]);
            var moved = balanced.Where(p => joined.Shards[p.Key].Owner != p.Value.Owner).Select(p => p.Key).ToList();
            Assert.Equal(shardCount / (memberCount + 1), moved.Count);
            Assert.All(moved, id => Assert.Equal(newcomer, joined.Shards[id].Owner));

            var leaver = Member(0);
            var left = LeaseAssigner.Assign(shards, joined.Shards, [.. members.Skip(1), newcomer]);
            Assert.All(joined.Shards.Where(p => p.Value.Owner != leaver), p => Assert.Equal(p.Value.Owner, left.Shards[p.Key].Owner));
            Assert.All(left.Shards.Values, s => Assert.NotEqual(leaver, s.Owner));
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void The_members_holding_the_most_keep_the_extra_shares_and_release_their_highest_ids()
    {
        var shards = Shards(5);
        var state = _noState.ToBuilder();
        foreach (var i in new[] { 0, 1, 2, 3 })
        {
            state[ShardIds.Format(i)] = new GroupShard { Owner = "b", Epoch = 4 };
        }

        state[ShardIds.Format(4)] = new GroupShard { Owner = "a", Epoch = 2 };
        var assignment = LeaseAssigner.Assign(shards, state.ToImmutable(), ["a", "b", "c"]);

        // 5 over 3: b (holding 4) and a (holding 1) get the two shares of 2, c one; b keeps 0 and 1, and
        // of the two released c (holding fewest) takes the first.
        Assert.Equal(["b", "b", "c", "a", "a"], assignment.Shards.Values.Select(s => s.Owner!));
        Assert.Equal([4, 4, 5, 5, 2], assignment.Shards.Values.Select(s => s.Epoch));
    }

    [Fact]
    public void No_members_release_every_lease_and_children_wait_for_every_parent()
    {
        var shards = Shards(4, i => i switch { 2 => ["shardId-000000000000"], 3 => ["shardId-000000000000", "shardId-000000000001"], _ => [] });
        Assert.Equal<string>(["shardId-000000000000", "shardId-000000000001"], LeaseAssigner.Leasable(shards, _noState));

        var ended = _noState.SetItem("shardId-000000000000", new GroupShard { ShardEnd = true, Epoch = 1 });
        Assert.Equal<string>(["shardId-000000000001", "shardId-000000000002"], LeaseAssigner.Leasable(shards, ended));
        ended = ended.SetItem("shardId-000000000001", new GroupShard { ShardEnd = true, Epoch = 1 });
        Assert.Equal<string>(["shardId-000000000002", "shardId-000000000003"], LeaseAssigner.Leasable(shards, ended));

        // A parent no longer in the stream does not hold its child back.
        Assert.Equal<string>(["shardId-000000000000"], LeaseAssigner.Leasable(Shards(1, _ => ["shardId-000000000099"]), _noState));

        var leased = LeaseAssigner.Assign(shards, _noState, ["a"]);
        var released = LeaseAssigner.Assign(shards, leased.Shards, []);
        Assert.True(released.Moved);
        Assert.All(released.Shards.Values, s => Assert.Null(s.Owner));
        Assert.All(released.Shards.Values, s => Assert.Equal(1, s.Epoch));
    }
}
