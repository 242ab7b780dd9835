using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>streams.v1.Consumers over the wire: membership, fair and sticky leases, expiry, fencing, checkpoints and resharding.</summary>
public sealed class ConsumerGroupsApiTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    private static string Id(int number) => $"shardId-{number:D12}";

    private Task<JoinGroupResponse> JoinAsync(string stream, string member, int sessionTimeoutMs = 0, string group = "app", InitialPosition position = InitialPosition.Unspecified) =>
        _api.Consumers.JoinGroupAsync(new JoinGroupRequest { StreamName = stream, GroupName = group, MemberId = member, SessionTimeoutMs = sessionTimeoutMs, InitialPosition = position }, ApiNode.Deadline()).ResponseAsync;

    private Task<HeartbeatResponse> HeartbeatAsync(string stream, string member, string group = "app") =>
        _api.Consumers.HeartbeatAsync(new HeartbeatRequest { StreamName = stream, GroupName = group, MemberId = member }, ApiNode.Deadline()).ResponseAsync;

    private Task<LeaveGroupResponse> LeaveAsync(string stream, string member, string group = "app") =>
        _api.Consumers.LeaveGroupAsync(new LeaveGroupRequest { StreamName = stream, GroupName = group, MemberId = member }, ApiNode.Deadline()).ResponseAsync;

    private Task<CheckpointResponse> CheckpointAsync(string stream, string member, ShardLease lease, string sequenceNumber, bool shardEnd = false, string group = "app") =>
        _api.Consumers.CheckpointAsync(new CheckpointRequest { StreamName = stream, GroupName = group, MemberId = member, ShardId = lease.ShardId, LeaseEpoch = lease.Epoch, SequenceNumber = sequenceNumber, ShardEnd = shardEnd }, ApiNode.Deadline()).ResponseAsync;

    private Task<GetCheckpointsResponse> CheckpointsAsync(string stream, string group = "app") =>
        _api.Consumers.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = group }, ApiNode.Deadline()).ResponseAsync;

    private static Task<string> AssertLeaseLostAsync(Func<Task> call, params string[] parts) =>
        ApiNode.AssertFailsAsync(call, StatusCode.FailedPrecondition, StreamsErrors.LeaseLost, parts);

    [Fact]
    public async Task Join_heartbeat_and_leave()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-basic", 2);
        var before = DateTimeOffset.UtcNow;
        var joined = await JoinAsync(stream, "worker-1");
        Assert.Equal([Id(0), Id(1)], joined.Leases.Select(l => l.ShardId));
        Assert.All(joined.Leases, l =>
        {
            Assert.Equal(1, l.Epoch);
            Assert.Empty(l.Checkpoint);
            Assert.Equal(ShardIteratorType.TrimHorizon, l.StartingPosition.Type);
            Assert.Empty(l.ParentShardIds);
        });
        Assert.Equal((10_000, 3_333, 1L), (joined.SessionTimeoutMs, joined.HeartbeatIntervalMs, joined.Generation));
        var expires = joined.ExpiresAt.ToDateTimeOffset();
        Assert.InRange(expires, before.AddSeconds(9), DateTimeOffset.UtcNow.AddSeconds(11));

        var beat = await HeartbeatAsync(stream, "worker-1");
        Assert.Equal(joined.Leases, beat.Leases);
        Assert.Equal(1, beat.Generation);
        Assert.True(beat.ExpiresAt.ToDateTimeOffset() >= expires);

        var checkpoints = await CheckpointsAsync(stream);
        Assert.Equal(InitialPosition.TrimHorizon, checkpoints.InitialPosition);
        Assert.Equal(["worker-1"], checkpoints.Members.Select(m => m.MemberId));
        Assert.Equal(2, checkpoints.Members[0].LeaseCount);
        Assert.All(checkpoints.Checkpoints, c => Assert.Equal(("worker-1", 1L, false), (c.Owner, c.LeaseEpoch, c.ShardEnd)));

        await LeaveAsync(stream, "worker-1");
        await LeaveAsync(stream, "worker-1");
        checkpoints = await CheckpointsAsync(stream);
        Assert.Empty(checkpoints.Members);
        Assert.All(checkpoints.Checkpoints, c => Assert.Empty(c.Owner));
        await AssertLeaseLostAsync(() => HeartbeatAsync(stream, "worker-1"), "Member 'worker-1' is not in group 'app'", "JoinGroup again");
    }

    [Fact]
    public async Task Three_members_share_eight_shards_3_3_2_and_a_fourth_moves_only_its_share()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-fair", 8);
        foreach (var member in new[] { "a", "b", "c" })
        {
            await JoinAsync(stream, member);
        }

        var leases = new Dictionary<string, List<ShardLease>>();
        foreach (var member in new[] { "a", "b", "c" })
        {
            leases[member] = [.. (await HeartbeatAsync(stream, member)).Leases];
        }

        Assert.Equal([3, 3, 2], leases.Values.Select(l => l.Count).Order().Reverse());
        Assert.Equal(8, leases.Values.SelectMany(l => l).Select(l => l.ShardId).Distinct().Count());

        // A fourth member gets two shards; everything else stays where it was, at the same epoch.
        var fourth = await JoinAsync(stream, "d");
        Assert.Equal(2, fourth.Leases.Count);
        var after = await CheckpointsAsync(stream);
        Assert.Equal(4, after.Members.Count);
        Assert.All(after.Members, m => Assert.Equal(2, m.LeaseCount));
        var moved = leases.SelectMany(p => p.Value.Select(l => (Member: p.Key, Lease: l)))
            .Count(x => after.Checkpoints.Single(c => c.ShardId == x.Lease.ShardId).Owner != x.Member);
        Assert.Equal(2, moved);
    }

    [Fact]
    public async Task An_expired_member_s_shards_go_to_the_survivor_and_its_checkpoints_are_fenced()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-expiry", 4);
        var put = await _api.PutAsync(stream, [.. Enumerable.Range(0, 20).Select(i => ApiNode.Entry($"key-{i}", $"r{i}"))]);
        await JoinAsync(stream, "long", sessionTimeoutMs: 30_000);
        var shortLived = await JoinAsync(stream, "short", sessionTimeoutMs: 1_000);
        Assert.Equal((1_000, 333), (shortLived.SessionTimeoutMs, shortLived.HeartbeatIntervalMs));
        var zombie = shortLived.Leases;
        Assert.Equal([Id(2), Id(3)], zombie.Select(l => l.ShardId));

        await Task.Delay(1_500);
        var survivor = await HeartbeatAsync(stream, "long");
        Assert.Equal(4, survivor.Leases.Count);
        foreach (var lost in zombie)
        {
            Assert.Equal(lost.Epoch + 1, survivor.Leases.Single(l => l.ShardId == lost.ShardId).Epoch);
        }

        var old = zombie[0];
        var record = put.Records.First(r => r.ShardId == old.ShardId);
        await AssertLeaseLostAsync(() => HeartbeatAsync(stream, "short"), "Member 'short' is not in group", "JoinGroup again");
        await AssertLeaseLostAsync(() => CheckpointAsync(stream, "short", old, record.SequenceNumber), "Member 'short' is not in group");

        // Back in the group, it gets its shards again but at a new epoch: the old one stays fenced.
        var rejoined = await JoinAsync(stream, "short", sessionTimeoutMs: 30_000);
        var regained = rejoined.Leases.Single(l => l.ShardId == old.ShardId);
        Assert.True(regained.Epoch > survivor.Leases.Single(l => l.ShardId == old.ShardId).Epoch);
        await AssertLeaseLostAsync(() => CheckpointAsync(stream, "short", old, record.SequenceNumber), $"Shard {old.ShardId} of group 'app'", $"is leased to 'short' at epoch {regained.Epoch}, not to 'short' at epoch {old.Epoch}");
        await CheckpointAsync(stream, "short", regained, record.SequenceNumber);
    }

    [Fact]
    public async Task Checkpoints_outside_the_shard_are_invalid_and_a_new_member_resumes_after_the_checkpoint()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-resume", 1);
        var put = await _api.PutAsync(stream, [.. Enumerable.Range(0, 10).Select(i => ApiNode.Entry("k", $"r{i}"))]);
        var lease = Assert.Single((await JoinAsync(stream, "first")).Leases);
        var last = put.Records[^1].SequenceNumber;
        var beyond = (decimal.Parse(last[..20], System.Globalization.CultureInfo.InvariantCulture) + 1000).ToString("00000000000000000000", System.Globalization.CultureInfo.InvariantCulture) + "000000";

        await ApiNode.AssertInvalidAsync(() => CheckpointAsync(stream, "first", lease, beyond), $"sequence_number {beyond} is beyond the last record written to shard {Id(0)}");
        await ApiNode.AssertInvalidAsync(() => CheckpointAsync(stream, "first", new ShardLease { ShardId = Id(5), Epoch = 1 }, last), $"shard_id {Id(5)} is not a shard of stream");
        await ApiNode.AssertInvalidAsync(() => CheckpointAsync(stream, "first", lease, "42"), "sequence_number must be a sequence number");
        await ApiNode.AssertInvalidAsync(() => CheckpointAsync(stream, "first", lease, last, shardEnd: true), "shard_end is set", "is open");

        await CheckpointAsync(stream, "first", lease, put.Records[4].SequenceNumber);
        var state = Assert.Single((await CheckpointsAsync(stream)).Checkpoints);
        Assert.Equal(put.Records[4].SequenceNumber, state.SequenceNumber);
        await LeaveAsync(stream, "first");

        var resumed = Assert.Single((await JoinAsync(stream, "second")).Leases);
        Assert.Equal(2, resumed.Epoch);
        Assert.Equal(put.Records[4].SequenceNumber, resumed.Checkpoint);
        Assert.Equal(ShardIteratorType.AfterSequenceNumber, resumed.StartingPosition.Type);
        var iterator = await _api.IteratorAsync(stream, resumed.ShardId, resumed.StartingPosition.Type, resumed.StartingPosition.SequenceNumber);
        Assert.Equal(["r5", "r6", "r7", "r8", "r9"], ApiNode.Texts(await _api.ReadFromAsync(iterator)));
    }

    [Fact]
    public async Task After_a_split_the_children_are_leased_only_once_the_parent_is_checkpointed_to_its_end()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-split", 1);
        await _api.PutAsync(stream, [.. Enumerable.Range(0, 5).Select(i => ApiNode.Entry($"k{i}", $"r{i}"))]);
        var lease = Assert.Single((await JoinAsync(stream, "reader")).Leases);
        await _api.Streams.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = Id(0), NewStartingHashKey = (UInt128.One << 127).ToString(System.Globalization.CultureInfo.InvariantCulture) }, ApiNode.Deadline());
        await _api.WaitActiveAsync(stream);

        var beat = await HeartbeatAsync(stream, "reader");
        Assert.Equal([Id(0)], beat.Leases.Select(l => l.ShardId));

        var records = await _api.ReadShardAsync(stream, Id(0));
        var ending = (await _api.ListShardsAsync(stream))[0].SequenceNumberRange.EndingSequenceNumber;
        Assert.Equal(records[^1].SequenceNumber, ending);
        await CheckpointAsync(stream, "reader", lease, ending, shardEnd: true);

        beat = await HeartbeatAsync(stream, "reader");
        Assert.Equal([Id(1), Id(2)], beat.Leases.Select(l => l.ShardId));
        Assert.All(beat.Leases, l =>
        {
            Assert.Equal(1, l.Epoch);
            Assert.Equal([Id(0)], l.ParentShardIds);
            Assert.Equal(ShardIteratorType.TrimHorizon, l.StartingPosition.Type);
        });
        Assert.True(beat.Generation > 1);
        var parent = (await CheckpointsAsync(stream)).Checkpoints[0];
        Assert.Equal((true, "", ending), (parent.ShardEnd, parent.Owner, parent.SequenceNumber));

        // The parent's lease is gone: checkpointing it again is fenced.
        await AssertLeaseLostAsync(() => CheckpointAsync(stream, "reader", lease, ending), "is not leased to any member now");
    }

    [Fact]
    public async Task A_LATEST_group_starts_its_shards_at_LATEST()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-latest", 2);
        var joined = await JoinAsync(stream, "tail", group: "tailer", position: InitialPosition.Latest);
        Assert.All(joined.Leases, l => Assert.Equal(ShardIteratorType.Latest, l.StartingPosition.Type));
        Assert.Equal(InitialPosition.Latest, (await CheckpointsAsync(stream, "tailer")).InitialPosition);
    }

    [Fact]
    public async Task DeleteGroup_is_refused_while_members_live_and_unknown_groups_are_not_found()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-delete", 1);
        await JoinAsync(stream, "alive");
        var delete = () => _api.Consumers.DeleteGroupAsync(new DeleteGroupRequest { StreamName = stream, GroupName = "app" }, ApiNode.Deadline()).ResponseAsync;
        await ApiNode.AssertFailsAsync(delete, StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, "1 live member(s): 'alive'", "LeaveGroup");

        await LeaveAsync(stream, "alive");
        await delete();
        await ApiNode.AssertFailsAsync(delete, StatusCode.NotFound, StreamsErrors.ResourceNotFound, "Group 'app' was not found");
        await ApiNode.AssertFailsAsync(() => CheckpointsAsync(stream), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "Group 'app' was not found");
        await AssertLeaseLostAsync(() => HeartbeatAsync(stream, "alive"), "does not exist", "JoinGroup");
    }

    [Fact]
    public async Task Bad_names_timeouts_and_streams_are_refused_saying_what_to_change()
    {
        var stream = await _api.NewActiveStreamAsync("consumers-bad", 1);
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, "m", group: "my app"), "group_name must be 1 to 128 characters of letters, digits, '_', '.' and '-'; 'my app'");
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, "m", group: ""), "group_name is required");
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, new string('m', 129)), "member_id must be 1 to 128 characters", "(129 characters)");
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, "m", sessionTimeoutMs: 500), "session_timeout_ms must be between 1000 and 300000 (0 means 10000); it is 500.");
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, "m", sessionTimeoutMs: -1), "session_timeout_ms must be between 1000 and 300000");
        await ApiNode.AssertInvalidAsync(() => JoinAsync(stream, "m", position: (InitialPosition)9), "initial_position 9 is not known");
        await ApiNode.AssertFailsAsync(() => JoinAsync("no-such-stream", "m"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "Stream 'no-such-stream' was not found");
        await ApiNode.AssertInvalidAsync(() => HeartbeatAsync(stream, "bad/id"), "member_id must be");
    }
}
