using Streams.Client.Api;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Consumers;
using Streams.Server.Routing;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>Consumer groups in the controller: membership, expiry, leases and their epochs, checkpoints and fencing.</summary>
public sealed class ConsumerGroupTests
{
    private const long T0 = 1_800_000_000_000;

    private readonly TestController _controller = TestController.Bootstrapped(3);

    private readonly GroupCommands _group = new("orders", "app");

    private static string Id(int number) => ShardIds.Format(number);

    private static string Seq(long index, int position = 0) => new SequenceNumber(index, position).ToString();

    private ConsumerGroupRecord Group(string stream = "orders", string group = "app") => _controller.Stream(stream).ConsumerGroups[group];

    private Dictionary<string, long> Leases(string member) =>
        Group().LeasesOf(member).ToDictionary(p => p.Key, p => p.Value.Epoch);

    private MetadataError Refused(Streams.Server.Metadata.V1.ControllerCommand command, string errorName, params string[] parts)
    {
        var error = _controller.Refused(command);
        Assert.True(errorName == error.Name, $"expected {errorName}, got {error.Name}: {error.Message}");
        foreach (var part in parts)
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }

        return error;
    }

    [Fact]
    public void The_first_join_creates_the_group_and_leases_every_shard_at_epoch_1()
    {
        _controller.CreateActive("orders", 4);
        _controller.Ok(_group.Join("a", T0));

        var group = Group();
        Assert.Equal(InitialPosition.TrimHorizon, group.InitialPosition);
        Assert.Equal(T0, group.CreatedAt.ToUnixTimeMilliseconds());
        Assert.Equal(4, group.ShardCountAtCreation);
        Assert.Equal(1, group.Generation);
        var member = Assert.Single(group.Members.Values);
        Assert.Equal(("a", T0 + 10_000, 10_000), (member.MemberId, member.ExpiresAt.ToUnixTimeMilliseconds(), member.SessionTimeoutMs));
        Assert.Equal(new Dictionary<string, long> { [Id(0)] = 1, [Id(1)] = 1, [Id(2)] = 1, [Id(3)] = 1 }, Leases("a"));
    }

    [Fact]
    public void A_second_member_takes_half_and_only_the_moved_shards_get_a_new_epoch()
    {
        _controller.CreateActive("orders", 4);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_group.Join("b", T0 + 100));

        // a keeps its lowest ids and releases the rest; b gets them at epoch 2.
        Assert.Equal(new Dictionary<string, long> { [Id(0)] = 1, [Id(1)] = 1 }, Leases("a"));
        Assert.Equal(new Dictionary<string, long> { [Id(2)] = 2, [Id(3)] = 2 }, Leases("b"));
        Assert.Equal(2, Group().Generation);

        // A heartbeat that changes no lease keeps the generation.
        _controller.Ok(_group.Heartbeat("a", T0 + 200));
        Assert.Equal(2, Group().Generation);
        Assert.Equal(T0 + 10_200, Group().Members["a"].ExpiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void An_expired_member_is_swept_by_the_next_command_and_its_shards_go_to_the_survivor_with_higher_epochs()
    {
        _controller.CreateActive("orders", 4);
        _controller.Ok(_group.Join("a", T0, sessionTimeoutMs: 1_000));
        _controller.Ok(_group.Join("b", T0 + 10, sessionTimeoutMs: 5_000));
        Assert.Equal(2, Leases("a").Count);

        // At exactly its expiry a is still alive; one millisecond later it is not.
        _controller.Ok(_group.Heartbeat("b", T0 + 1_000));
        Assert.Equal(2, Leases("a").Count);
        _controller.Ok(_group.Heartbeat("b", T0 + 1_001));
        Assert.DoesNotContain("a", Group().Members.Keys);
        Assert.Equal(new Dictionary<string, long> { [Id(0)] = 2, [Id(1)] = 2, [Id(2)] = 2, [Id(3)] = 2 }, Leases("b"));

        Refused(_group.Heartbeat("a", T0 + 1_100), StreamsErrors.LeaseLost, "Member 'a' is not in group 'app'", "JoinGroup again");

        // The zombie's checkpoint is fenced, naming the holder and its epoch.
        Refused(_group.Checkpoint("a", Id(0), 1, Seq(5), T0 + 1_200), StreamsErrors.LeaseLost, "Member 'a' is not in group");
        // Joining again, a gets shards back, at new epochs: its old epoch stays fenced.
        _controller.Ok(_group.Join("a", T0 + 1_300, sessionTimeoutMs: 1_000));
        Assert.Equal(new Dictionary<string, long> { [Id(2)] = 3, [Id(3)] = 3 }, Leases("a"));
        Refused(_group.Checkpoint("a", Id(0), 1, Seq(5), T0 + 1_400), StreamsErrors.LeaseLost, $"Shard {Id(0)} of group 'app'", "leased to 'b' at epoch 2, not to 'a' at epoch 1");
        Refused(_group.Checkpoint("a", Id(2), 1, Seq(5), T0 + 1_400), StreamsErrors.LeaseLost, "leased to 'a' at epoch 3, not to 'a' at epoch 1");
        _controller.Ok(_group.Checkpoint("a", Id(2), 3, Seq(5), T0 + 1_500));
        Assert.Equal(new SequenceNumber(5, 0), Group().ShardState(Id(2)).Checkpoint);
    }

    [Fact]
    public void The_group_clock_never_goes_back_so_a_late_stamp_cannot_revive_or_shorten_anything()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(_group.Join("a", T0, sessionTimeoutMs: 1_000));
        _controller.Ok(_group.Join("b", T0 + 5_000, sessionTimeoutMs: 1_000));
        Assert.DoesNotContain("a", Group().Members.Keys);

        // A node whose clock is behind stamps an earlier time: the group counts from its latest time.
        _controller.Ok(_group.Join("c", T0 + 100, sessionTimeoutMs: 1_000));
        Assert.Equal(T0 + 5_000, Group().LastSeenAt.ToUnixTimeMilliseconds());
        Assert.Equal(T0 + 6_000, Group().Members["c"].ExpiresAt.ToUnixTimeMilliseconds());
        Refused(_group.Heartbeat("a", T0 + 200), StreamsErrors.LeaseLost);
    }

    [Fact]
    public void Checkpoints_need_the_current_epoch_stay_in_the_shard_range_and_may_go_back()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, Seq(40, 3), T0 + 1));
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, Seq(20), T0 + 2));
        Assert.Equal(new SequenceNumber(20, 0), Group().ShardState(Id(0)).Checkpoint);

        Refused(_group.Checkpoint("a", Id(0), 2, Seq(20), T0 + 3), StreamsErrors.LeaseLost, "leased to 'a' at epoch 1, not to 'a' at epoch 2");
        Refused(_group.Checkpoint("a", Id(7), 1, Seq(20), T0 + 3), StreamsErrors.InvalidArgument, $"shard_id {Id(7)} is not a shard of stream 'orders'");
        Refused(_group.Checkpoint("a", "shard-7", 1, Seq(20), T0 + 3), StreamsErrors.InvalidArgument, "shard_id must be a shard id");
        Refused(_group.Checkpoint("a", Id(0), 1, "12", T0 + 3), StreamsErrors.InvalidArgument, "sequence_number must be a sequence number");
        Refused(_group.Checkpoint("a", Id(0), 1, Seq(0), T0 + 3), StreamsErrors.InvalidArgument, "outside shard", Seq(1));
        Refused(_group.Checkpoint("a", Id(0), 1, "", T0 + 3), StreamsErrors.InvalidArgument, "sequence_number is empty");
        Refused(_group.Checkpoint("a", Id(0), 1, Seq(20), T0 + 3, shardEnd: true), StreamsErrors.InvalidArgument, "shard_end is set", "is open");

        // A checkpoint is a heartbeat too.
        Assert.Equal(T0 + 10_002, Group().Members["a"].ExpiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void After_a_split_the_children_are_leased_only_once_the_parent_is_ended()
    {
        _controller.CreateActive("orders", 1);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_group.Join("b", T0 + 1));
        var parent = _controller.Stream("orders").Shards[0];
        _controller.Ok(_controller.Split("orders", Id(0), parent.HashKeyRange.Start + (parent.HashKeyRange.End / 2)));
        _controller.Settle();
        var ending = _controller.Stream("orders").Shards[0].EndingSequenceNumber!.Value;

        _controller.Ok(_group.Heartbeat("b", T0 + 2));
        Assert.Equal([Id(0)], Leases("a").Keys);
        Assert.Empty(Leases("b"));

        Refused(_group.Checkpoint("a", Id(0), 1, new SequenceNumber(ending.Index + 1, 0).ToString(), T0 + 3, shardEnd: true), StreamsErrors.InvalidArgument, "outside shard", ending.ToString());
        var generation = Group().Generation;
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, ending.ToString(), T0 + 4, shardEnd: true));

        // The parent's lease is freed and the children shared out, each at its first epoch.
        var state = Group().ShardState(Id(0));
        Assert.True(state.ShardEnd);
        Assert.Null(state.Owner);
        Assert.Equal(ending, state.Checkpoint);
        Assert.Equal(new Dictionary<string, long> { [Id(1)] = 1 }, Leases("a"));
        Assert.Equal(new Dictionary<string, long> { [Id(2)] = 1 }, Leases("b"));
        Assert.Equal(generation + 1, Group().Generation);

        // The same end again (a retried proposal) is done, not a lost lease.
        Assert.False(_controller.Ok(_group.Checkpoint("a", Id(0), 1, ending.ToString(), T0 + 5, shardEnd: true)).Changed);
    }

    [Fact]
    public void A_merged_child_waits_for_both_parents()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_controller.Merge("orders", Id(0), Id(1)));
        _controller.Settle();
        var shards = _controller.Stream("orders").Shards;

        _controller.Ok(_group.Checkpoint("a", Id(0), 1, "", T0 + 1, shardEnd: true));
        Assert.Equal([Id(1)], Leases("a").Keys);
        Assert.Null(Group().ShardState(Id(0)).Checkpoint);

        _controller.Ok(_group.Checkpoint("a", Id(1), 1, shards[1].EndingSequenceNumber!.Value.ToString(), T0 + 2, shardEnd: true));
        Assert.Equal([Id(2)], Leases("a").Keys);
    }

    [Fact]
    public void A_LATEST_group_counts_the_shards_closed_before_it_as_read()
    {
        _controller.CreateActive("orders", 1);
        var parent = _controller.Stream("orders").Shards[0];
        _controller.Ok(_controller.Split("orders", Id(0), parent.HashKeyRange.End / 2));
        _controller.Settle();

        _controller.Ok(_group.Join("a", T0, position: InitialPosition.Latest));
        var group = Group();
        Assert.Equal(InitialPosition.Latest, group.InitialPosition);
        Assert.Equal(3, group.ShardCountAtCreation);
        Assert.True(group.ShardState(Id(0)).ShardEnd);
        Assert.Equal([Id(1), Id(2)], Leases("a").Keys);

        // A TRIM_HORIZON group of the same stream reads the parent first.
        var other = _group with { Group = "from-start" };
        _controller.Ok(other.Join("a", T0));
        Assert.Equal([Id(0)], Group(group: "from-start").LeasesOf("a").Select(p => p.Key));

        // The initial position belongs to the join that created the group.
        _controller.Ok(_group.Join("b", T0 + 1, position: InitialPosition.TrimHorizon));
        Assert.Equal(InitialPosition.Latest, Group().InitialPosition);
    }

    [Fact]
    public void Leaving_hands_the_shards_over_and_is_idempotent()
    {
        _controller.CreateActive("orders", 3);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_group.Join("b", T0 + 1));
        _controller.Ok(_group.Leave("a", T0 + 2));
        Assert.Equal(3, Leases("b").Count);
        Assert.False(_controller.Ok(_group.Leave("a", T0 + 3)).Changed);
        Assert.False(_controller.Ok((_group with { Group = "nobody" }).Leave("a", T0 + 3)).Changed);
    }

    [Fact]
    public void DeleteGroup_is_refused_while_members_live_and_forgets_the_checkpoints_after()
    {
        _controller.CreateActive("orders", 2);
        _controller.Ok(_group.Join("a", T0, sessionTimeoutMs: 1_000));
        _controller.Ok(_group.Join("b", T0, sessionTimeoutMs: 60_000));
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, Seq(3), T0 + 1));

        Refused(_group.Delete(T0 + 10), StreamsErrors.ResourceInUse, "2 live member(s): 'a', 'b'", "LeaveGroup");
        _controller.Ok(_group.Leave("b", T0 + 20));
        Refused(_group.Delete(T0 + 30), StreamsErrors.ResourceInUse, "1 live member(s): 'a'");

        // Once a's session ran out the group can go.
        _controller.Ok(_group.Delete(T0 + 5_000));
        Assert.Empty(_controller.Stream("orders").ConsumerGroups);
        Refused(_group.Delete(T0 + 6_000), StreamsErrors.ResourceNotFound, "Group 'app' was not found in stream 'orders'");

        // Joining again starts afresh.
        _controller.Ok(_group.Join("a", T0 + 7_000));
        Assert.Null(Group().ShardState(Id(0)).Checkpoint);
    }

    [Fact]
    public void Deleting_the_stream_forgets_its_groups_and_a_new_stream_of_that_name_starts_fresh()
    {
        var stream = _controller.CreateActive("orders", 2);
        _controller.Ok(_group.Join("a", T0));
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, Seq(3), T0 + 1));

        _controller.Ok(TestController.Delete("orders"));
        Refused(_group.Join("b", T0 + 2), StreamsErrors.ResourceInUse, "is being deleted");
        _controller.Ok(TestController.Deleted(stream.StreamId));
        Refused(_group.Heartbeat("a", T0 + 3), StreamsErrors.ResourceNotFound, "Stream 'orders' not found");

        _controller.CreateActive("orders", 2);
        Assert.Empty(_controller.Stream("orders").ConsumerGroups);
        Refused(_group.Heartbeat("a", T0 + 4), StreamsErrors.LeaseLost, "does not exist");
    }

    [Theory]
    [InlineData("", "a", 0, "group_name is required")]
    [InlineData("my app", "a", 0, "group_name must be 1 to 128 characters")]
    [InlineData("app", "", 0, "member_id is required")]
    [InlineData("app", "host/1", 0, "member_id must be 1 to 128 characters of letters, digits, '_', '.', ':' and '-'")]
    [InlineData("app", "a", 999, "session_timeout_ms must be between 1000 and 300000 (0 means 10000); it is 999.")]
    [InlineData("app", "a", 300_001, "session_timeout_ms must be between 1000 and 300000")]
    public void Join_refuses_bad_names_and_timeouts_saying_what_to_change(string group, string member, int timeout, string message)
    {
        _controller.CreateActive("orders", 1);
        Refused((_group with { Group = group }).Join(member, T0, timeout), StreamsErrors.InvalidArgument, message);
    }

    [Fact]
    public void Join_accepts_the_longest_names_and_the_timeout_bounds_and_needs_a_usable_stream()
    {
        _controller.CreateActive("orders", 1);
        _controller.Ok((_group with { Group = new string('g', 128) }).Join(new string('m', 127) + ":", T0, 1_000));
        _controller.Ok(_group.Join("host-1:4242.x_y", T0, 300_000));
        Refused(_group.Join("a", T0, position: (InitialPosition)7), StreamsErrors.InvalidArgument, "initial_position 7");
        Refused((_group with { Stream = "missing" }).Join("a", T0), StreamsErrors.ResourceNotFound, "Stream 'missing' not found");

        _controller.Ok(_controller.Create("young", 1));
        Refused((_group with { Stream = "young" }).Join("a", T0), StreamsErrors.ResourceInUse, "is CREATING", "ACTIVE");
    }

    [Fact]
    public void Groups_survive_a_snapshot_and_behave_the_same_after_it()
    {
        _controller.CreateActive("orders", 3);
        _controller.CreateActive("clicks", 1);
        _controller.Ok(_group.Join("a", T0, sessionTimeoutMs: 2_000));
        _controller.Ok(_group.Join("b", T0 + 1));
        _controller.Ok(_group.Checkpoint("a", Id(0), 1, Seq(9, 2), T0 + 2));
        _controller.Ok(new GroupCommands("clicks", "latest").Join("z", T0 + 3, position: InitialPosition.Latest));

        var bytes = _controller.State.Snapshot();
        var restored = new ControllerState();
        restored.Restore(bytes);
        Assert.Equal(_controller.Current, restored.Current);
        Assert.Equal(bytes, restored.Snapshot());
        Assert.Equal(Group(), restored.Current.Streams["orders"].ConsumerGroups["app"]);

        // A change in a group makes the states differ; the same command on both makes them equal again.
        var next = _group.Heartbeat("b", T0 + 3_000);
        _controller.Ok(next);
        Assert.NotEqual(_controller.Current, restored.Current);
        Assert.True(restored.Apply(next).Succeeded);
        Assert.Equal(_controller.Current, restored.Current);
        Assert.Equal(_controller.State.Snapshot(), restored.Snapshot());
        Assert.DoesNotContain("a", restored.Current.Streams["orders"].ConsumerGroups["app"].Members.Keys);
    }

    [Fact]
    public void A_stream_holds_a_bounded_number_of_groups_and_a_group_a_bounded_number_of_members()
    {
        _controller.CreateActive("orders", 1);
        for (var i = 0; i < ConsumerGroupRules.MaxGroupsPerStream; i++)
        {
            _controller.Ok(new GroupCommands("orders", $"app-{i}").Join("a", T0));
        }

        Refused(new GroupCommands("orders", "one-too-many").Join("a", T0), StreamsErrors.LimitExceeded, "200 consumer groups", "delete a group");
        _controller.Ok(new GroupCommands("orders", "app-0").Join("b", T0));

        var big = new GroupCommands("orders", "app-1");
        for (var i = 1; i < ConsumerGroupRules.MaxMembersPerGroup; i++)
        {
            _controller.Ok(big.Join($"m-{i}", T0));
        }

        Refused(big.Join("late", T0), StreamsErrors.LimitExceeded, "1000 live members");
        _controller.Ok(big.Join("a", T0 + 1));

        // Expired members make room: the sweep runs before the count.
        _controller.Ok(big.Join("late", T0 + 10_001));
    }
}
