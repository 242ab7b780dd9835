using Streams.Client.Consuming;
using Streams.V1;

namespace Streams.Client.Tests.Consuming;

/// <summary>The consumer's pure parts: lease comparison, checkpoint policy, sequence order, member ids.</summary>
public sealed class ConsumerLogicTests
{
    [Fact]
    public void New_leases_start_readers_and_missing_ones_stop_them()
    {
        var held = new Dictionary<string, long> { ["shardId-000000000000"] = 1, ["shardId-000000000001"] = 4 };
        var changes = LeaseChanges.Between(held, [Lease("shardId-000000000001", 4), Lease("shardId-000000000002", 1)]);
        Assert.Equal(["shardId-000000000002"], changes.Acquired.Select(l => l.ShardId));
        Assert.Equal(["shardId-000000000000"], changes.Lost);
    }

    [Fact]
    public void A_shard_leased_again_at_another_epoch_restarts_its_reader()
    {
        var changes = LeaseChanges.Between(new Dictionary<string, long> { ["shardId-000000000003"] = 2 }, [Lease("shardId-000000000003", 5)]);
        Assert.Equal(["shardId-000000000003"], changes.Lost);
        Assert.Equal(5, Assert.Single(changes.Acquired).Epoch);
    }

    [Fact]
    public void The_same_leases_change_nothing_and_no_leases_stop_everything()
    {
        var held = new Dictionary<string, long> { ["a"] = 1, ["b"] = 2 };
        var same = LeaseChanges.Between(held, [Lease("b", 2), Lease("a", 1)]);
        Assert.Empty(same.Acquired);
        Assert.Empty(same.Lost);
        var none = LeaseChanges.Between(held, []);
        Assert.Equal(["a", "b"], none.Lost);
    }

    [Fact]
    public void A_policy_is_due_after_N_records_or_the_interval_and_never_without_new_records()
    {
        var count = new CheckpointPolicy(10, TimeSpan.Zero);
        Assert.False(count.IsDue(9, TimeSpan.FromHours(1)));
        Assert.True(count.IsDue(10, TimeSpan.Zero));

        var time = new CheckpointPolicy(0, TimeSpan.FromSeconds(5));
        Assert.False(time.IsDue(1000, TimeSpan.FromSeconds(4)));
        Assert.True(time.IsDue(1, TimeSpan.FromSeconds(5)));
        Assert.False(time.IsDue(0, TimeSpan.FromHours(1)));

        var both = new CheckpointPolicy(100, TimeSpan.FromSeconds(5));
        Assert.True(both.IsDue(100, TimeSpan.Zero));
        Assert.True(both.IsDue(1, TimeSpan.FromSeconds(6)));

        var manual = new CheckpointPolicy(0, TimeSpan.Zero);
        Assert.True(manual.IsManual);
        Assert.False(manual.IsDue(1_000_000, TimeSpan.FromDays(1)));
    }

    [Theory]
    [InlineData("9", "10", -1)]
    [InlineData("00000000000000000001000000", "00000000000000000000999999", 1)]
    [InlineData("49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588898", 0)]
    public void Sequence_numbers_compare_by_length_then_digits(string left, string right, int sign)
    {
        Assert.Equal(sign, Math.Sign(SequenceNumberOrder.Compare(left, right)));
    }

    [Fact]
    public void IsAfter_treats_a_missing_sequence_number_as_the_beginning()
    {
        Assert.True(SequenceNumberOrder.IsAfter("5", null));
        Assert.False(SequenceNumberOrder.IsAfter(null, "5"));
        Assert.False(SequenceNumberOrder.IsAfter("5", "5"));
        Assert.True(SequenceNumberOrder.IsAfter("15", "9"));
    }

    [Fact]
    public void Generated_member_ids_use_only_allowed_characters_and_differ_by_their_suffix()
    {
        var id = GeneratedMemberId.Create("web host/01", 4242, 0.5);
        Assert.Matches("^web-host-01-4242-[0-9a-z]{6}$", id);
        Assert.NotEqual(id, GeneratedMemberId.Create("web host/01", 4242, 0.25));
        Assert.Matches("^consumer-1-000000$", GeneratedMemberId.Create("", 1, 0));
        Assert.True(GeneratedMemberId.Create(new string('h', 500), int.MaxValue, 0.999999).Length <= ConsumerOptions.MaxNameLength);
    }

    private static ShardLease Lease(string shardId, long epoch) => new() { ShardId = shardId, Epoch = epoch };
}
