using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;
using Streams.Raft.Tracker;

namespace Streams.Raft.Tests.Core;

/// <summary>
/// Snapshots (§7): a leader whose log was compacted sends its snapshot in pieces to a follower
/// that needs the compacted entries; the follower installs it and catches up from there.
/// </summary>
public sealed class SnapshotTests
{
    private const int ChunkBytes = 7;
    private const int SnapshotBytes = 50;

    private static readonly Func<Message, bool> _cut3 = m => m.To == 3 || m.From == 3;

    private static TestCluster Cluster(int chunksInFlight = 4) => new(3, configure: (id, c) => new RaftConfig
    {
        Id = c.Id,
        Voters = c.Voters,
        RandomSource = c.RandomSource,
        ElectionTimeoutTicks = c.ElectionTimeoutTicks,
        HeartbeatTimeoutTicks = c.HeartbeatTimeoutTicks,
        SnapshotChunkBytes = ChunkBytes,
        MaxSnapshotChunksInFlight = chunksInFlight,
    });

    private static byte[] StateMachineBytes(int length) => Enumerable.Range(0, length).Select(i => (byte)((i * 37) + 11)).ToArray();

    /// <summary>
    /// Node 3 is cut off while the leader commits entries 1..6, compacts its log at 6 (a
    /// 50-byte snapshot) and appends 7 and 8; then node 3 is reachable again and the leader's
    /// next heartbeat round starts the transfer. Returns the snapshot.
    /// </summary>
    private static Snapshot FollowerBehindACompactedLeader(TestCluster cluster)
    {
        cluster.Elect(1, _cut3);
        for (var i = 0; i < 5; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        cluster.DeliverAll(_cut3);
        Assert.Equal(6, cluster[1].AppliedIndex);
        var snapshot = cluster.Compact(1, StateMachineBytes(SnapshotBytes));
        Assert.Equal(7, cluster.Storages[1].FirstIndex);

        cluster.Propose(1, "after-1");
        cluster.Propose(1, "after-2");
        cluster.DeliverAll(_cut3);
        Assert.Equal((8L, 8L), (cluster[1].LastIndex, cluster[1].CommitIndex));
        Assert.Equal(0, cluster[3].LastIndex);

        cluster.Tick(1);
        return snapshot;
    }

    private static void AssertCaughtUp(TestCluster cluster, long follower)
    {
        var leader = cluster[1];
        var node = cluster[follower];
        Assert.Equal((leader.LastIndex, leader.LastTerm, leader.CommitIndex), (node.LastIndex, node.LastTerm, node.CommitIndex));
        var first = Math.Max(cluster.Storages[follower].FirstIndex, cluster.Storages[1].FirstIndex);
        var expected = leader.Log.Entries(first, int.MaxValue, long.MaxValue);
        var actual = node.Log.Entries(first, int.MaxValue, long.MaxValue);
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(expected.Zip(actual), pair => Assert.True(pair.First.ContentEquals(pair.Second), $"{pair.First} != {pair.Second}"));
        Assert.Equal(ProgressState.Replicate, leader.ProgressOf(follower)!.State);
    }

    private static void AssertInstalled(TestCluster cluster, long follower, Snapshot snapshot)
    {
        var installed = Assert.Single(cluster.SnapshotsOf(follower));
        Assert.Equal(snapshot.Metadata, installed.Metadata);
        Assert.Equal(snapshot.Data.ToArray(), installed.Data.ToArray());
        Assert.Equal(snapshot.Metadata.Index + 1, cluster.Storages[follower].FirstIndex);
    }

    [Fact]
    public void A_follower_behind_a_compacted_log_receives_the_snapshot_in_pieces_installs_it_and_then_appends_the_rest()
    {
        var cluster = Cluster();
        var snapshot = FollowerBehindACompactedLeader(cluster);

        // Node 3's state at the moment it acknowledges the snapshot, before any later entry reaches it.
        (long Commit, long PersistedCommit, long FirstIndex, long LastIndex)? atInstall = null;
        var wire = new Wire(cluster);
        wire.Run(delivered: m =>
        {
            if (m.From == 3 && m.Type == MessageType.AppendResponse && m.Index == snapshot.Metadata.Index && atInstall is null)
            {
                atInstall = (cluster[3].CommitIndex, cluster.Storages[3].InitialState().Commit, cluster.Storages[3].FirstIndex, cluster[3].LastIndex);
            }
        });

        // ceil(50 / 7) = 8 pieces, in order, each naming the snapshot; none sent twice.
        var pieces = wire.Sent.Where(m => m.Type == MessageType.Snapshot && m.To == 3).Select(m => m.Chunk!).ToList();
        Assert.Equal((SnapshotBytes + ChunkBytes - 1) / ChunkBytes, pieces.Count);
        Assert.Equal(Enumerable.Range(0, pieces.Count).Select(i => (long)i * ChunkBytes), pieces.Select(p => p.Offset));
        Assert.All(pieces, p => Assert.Equal((snapshot.Metadata, (long)SnapshotBytes), (p.Metadata, p.TotalBytes)));
        Assert.True(pieces[^1].IsLast);

        // Installed through its Ready; after persisting, its log starts after the snapshot and
        // everything the snapshot holds is committed.
        AssertInstalled(cluster, 3, snapshot);
        Assert.Equal((6L, 6L, 7L, 6L), atInstall);

        // Then normal appends bring entries 7 and 8; the state machine applies only those (the
        // rest came with the snapshot).
        AssertCaughtUp(cluster, 3);
        Assert.Equal(new long[] { 7, 8 }, cluster.Applied[3].Select(e => e.Index));
        Assert.Equal(new ConfState([1, 2, 3]), cluster[3].ConfState);
    }

    [Fact]
    public void No_more_than_MaxSnapshotChunksInFlight_pieces_are_outstanding_before_acknowledgements()
    {
        var cluster = Cluster(chunksInFlight: 3);
        var snapshot = FollowerBehindACompactedLeader(cluster);

        // A piece is outstanding from the moment the leader sends it until the leader learns the
        // follower holds its bytes.
        long acknowledged = 0;
        var maxOutstanding = 0;
        var wire = new Wire(cluster);
        wire.Run(
            delivered: m =>
            {
                if (m.Type == MessageType.SnapshotResponse && !m.Reject)
                {
                    acknowledged = Math.Max(acknowledged, m.ChunkOffset);
                }
            },
            collected: () =>
            {
                var outstanding = wire.Sent.Count(m => m.Type == MessageType.Snapshot && m.Chunk!.Offset + m.Chunk.Data.Length > acknowledged);
                maxOutstanding = Math.Max(maxOutstanding, outstanding);
                Assert.True(outstanding <= 3, $"{outstanding} pieces outstanding after {acknowledged} bytes acknowledged");
            });

        // The window was used in full, and the transfer still completed.
        Assert.Equal(3, maxOutstanding);
        Assert.Equal(8, wire.Sent.Count(m => m.Type == MessageType.Snapshot));
        AssertInstalled(cluster, 3, snapshot);
        AssertCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_lost_piece_makes_the_follower_reject_the_next_and_the_leader_resends_from_the_bytes_it_holds()
    {
        var cluster = Cluster();
        var snapshot = FollowerBehindACompactedLeader(cluster);

        var lost = false;
        var sentBeforeReject = -1;
        var wire = new Wire(cluster);
        wire.Run(
            drop: m =>
            {
                // The second piece is lost once.
                if (!lost && m.Type == MessageType.Snapshot && m.Chunk!.Offset == ChunkBytes)
                {
                    lost = true;
                    return true;
                }

                return false;
            },
            delivered: m =>
            {
                if (m.Type == MessageType.SnapshotResponse && m.Reject && sentBeforeReject < 0)
                {
                    sentBeforeReject = wire.Sent.Count;
                }
            });

        // The third piece does not follow on: node 3 says it holds the first piece's 7 bytes.
        var reject = wire.Sent.First(m => m.Type == MessageType.SnapshotResponse && m.Reject);
        Assert.Equal((3L, 1L, (long)ChunkBytes), (reject.From, reject.To, reject.ChunkOffset));
        Assert.Equal((snapshot.Metadata.Index, snapshot.Metadata.Term), (reject.Index, reject.LogTerm));

        // The leader's next piece after hearing that starts there.
        var resent = wire.Sent.Skip(sentBeforeReject).First(m => m.Type == MessageType.Snapshot);
        Assert.Equal(ChunkBytes, resent.Chunk!.Offset);

        AssertInstalled(cluster, 3, snapshot);
        AssertCaughtUp(cluster, 3);
    }

    [Fact]
    public void When_every_piece_after_some_point_is_lost_the_leader_resends_from_the_acknowledged_offset_after_half_an_election_timeout()
    {
        var cluster = Cluster();
        var snapshot = FollowerBehindACompactedLeader(cluster);
        var stall = cluster.Configs[1].ElectionTimeoutTicks / 2;

        // The first two pieces arrive; every piece from byte 14 on is lost, so nothing more is answered.
        var wire = new Wire(cluster);
        wire.Run(drop: m => m.Type == MessageType.Snapshot && m.Chunk!.Offset >= 2 * ChunkBytes);
        Assert.Equal(2 * ChunkBytes, cluster[1].ProgressOf(3)!.SnapshotAcked);
        Assert.Empty(cluster.SnapshotsOf(3));

        // Heartbeats go unanswered too; until the stall timeout no piece is sent again.
        for (var i = 1; i < stall; i++)
        {
            cluster.Tick(1);
            Assert.DoesNotContain(cluster.Take(), m => m.Type == MessageType.Snapshot);
        }

        cluster.Tick(1);
        var resent = cluster.Take(m => m.Type == MessageType.Snapshot);
        cluster.Take();
        Assert.NotEmpty(resent);
        Assert.Equal(2 * ChunkBytes, resent[0].Chunk!.Offset);
        Assert.Equal(
            Enumerable.Range(2, resent.Count).Select(i => (long)i * ChunkBytes),
            resent.Select(m => m.Chunk!.Offset));

        cluster.Outbox.AddRange(resent);
        new Wire(cluster).Run();
        AssertInstalled(cluster, 3, snapshot);
        AssertCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_follower_that_restarts_while_receiving_asks_for_the_snapshot_from_the_start_and_still_installs_it()
    {
        var cluster = Cluster();
        var snapshot = FollowerBehindACompactedLeader(cluster);

        // Two pieces arrive; the rest are still on the wire when node 3 crashes.
        var inFlight = new List<Message>();
        new Wire(cluster).Run(drop: m =>
        {
            if (m.Type == MessageType.Snapshot && m.Chunk!.Offset >= 2 * ChunkBytes)
            {
                inFlight.Add(m);
                return true;
            }

            return false;
        });
        Assert.Equal(2 * ChunkBytes, cluster[1].ProgressOf(3)!.SnapshotAcked);

        // The pieces received were held in memory only: the restarted node has none of them.
        cluster.Restart(3);
        cluster.Outbox.AddRange(inFlight);
        var sentBeforeReject = -1;
        var wire = new Wire(cluster);
        wire.Run(delivered: m =>
        {
            if (m.Type == MessageType.SnapshotResponse && m.Reject && sentBeforeReject < 0)
            {
                sentBeforeReject = wire.Sent.Count;
            }
        });

        var reject = wire.Sent.First(m => m.Type == MessageType.SnapshotResponse);
        Assert.Equal((true, 0L), (reject.Reject, reject.ChunkOffset));
        var resent = wire.Sent.Skip(sentBeforeReject).First(m => m.Type == MessageType.Snapshot);
        Assert.Equal(0, resent.Chunk!.Offset);

        AssertInstalled(cluster, 3, snapshot);
        AssertCaughtUp(cluster, 3);
    }

    [Fact]
    public void A_follower_that_already_holds_the_snapshots_last_entry_keeps_the_entries_after_it_and_only_commits()
    {
        var cluster = Cluster();
        cluster.Elect(1);

        // Entries 2..6 reach node 3, but neither its acknowledgements nor any later commit index
        // do: it holds 1..6 with only 1 committed.
        for (var i = 2; i <= 6; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        foreach (var m in cluster.Take(m => m.To == 3))
        {
            cluster.Deliver(m);
        }

        cluster.Take(m => m.From == 3);
        cluster.DeliverAll(_cut3);
        cluster.Propose(1, "v7");
        cluster.Propose(1, "v8");
        cluster.DeliverAll(_cut3);
        Assert.Equal((6L, 1L), (cluster[3].LastIndex, cluster[3].CommitIndex));

        // The leader compacts at 5: node 3 needs entry 2, so it is sent the snapshot.
        var snapshot = cluster.Compact(1, StateMachineBytes(SnapshotBytes), index: 5);
        cluster.Tick(1);
        (long Commit, long LastIndex, long FirstIndex)? atInstall = null;
        var wire = new Wire(cluster);
        wire.Run(delivered: m =>
        {
            if (m.From == 3 && m.Type == MessageType.AppendResponse && m.Index == snapshot.Metadata.Index && atInstall is null)
            {
                atInstall = (cluster[3].CommitIndex, cluster[3].LastIndex, cluster.Storages[3].FirstIndex);
            }
        });
        Assert.Contains(wire.Sent, m => m.Type == MessageType.Snapshot && m.To == 3);

        // Its log matches the leader's up to 5: it keeps entry 6, commits 5, and its state
        // machine applies its own entries rather than restoring from the snapshot.
        Assert.Equal((5L, 6L, 1L), atInstall);
        Assert.Empty(cluster.SnapshotsOf(3));
        AssertCaughtUp(cluster, 3);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), cluster.Applied[3].Select(e => e.Index));
    }

    [Fact]
    public void SnapshotMetadataAt_gives_the_term_and_membership_as_of_the_index()
    {
        var cluster = Cluster();
        cluster.AddJoiningNode(4);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        Assert.Equal(3, cluster.ProposeConfChange(1, ConfChange.AddLearner(4)).Index);
        cluster.DeliverAll();
        cluster.Propose(1, "b");
        cluster.DeliverAll();

        // Node 2 takes over in term 2 (no-op at 5), so the terms differ along the log.
        Assert.Equal(TransferLeadershipStatus.Started, cluster[1].TransferLeadership(2));
        cluster.Drain(1);
        cluster.DeliverAll();
        Assert.Equal((RaftRole.Leader, 2L, 5L), (cluster[2].Role, cluster[2].Term, cluster[2].AppliedIndex));

        var before = new ConfState([1, 2, 3]);
        var after = new ConfState([1, 2, 3], [4]);
        Assert.Equal(new SnapshotMetadata(2, 1, before), cluster[2].SnapshotMetadataAt(2));
        Assert.Equal(new SnapshotMetadata(3, 1, after), cluster[2].SnapshotMetadataAt(3));
        Assert.Equal(new SnapshotMetadata(4, 1, after), cluster[2].SnapshotMetadataAt(4));
        Assert.Equal(new SnapshotMetadata(5, 2, after), cluster[2].SnapshotMetadataAt(5));

        // The same on a follower, whose membership came from its own log.
        Assert.Equal(new SnapshotMetadata(2, 1, before), cluster[3].SnapshotMetadataAt(2));
    }

    [Fact]
    public void SnapshotMetadataAt_refuses_an_index_not_yet_applied_or_already_compacted_and_says_which_are_allowed()
    {
        var cluster = Cluster();
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.DeliverAll();

        // Index 3 is in the leader's log but not committed, so not applied.
        cluster.Propose(1, "b");
        Assert.Equal((3L, 2L), (cluster[1].LastIndex, cluster[1].AppliedIndex));
        var notApplied = Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].SnapshotMetadataAt(3));
        Assert.Equal("index", notApplied.ParamName);
        Assert.Contains("[0, 2]; 3 is not", notApplied.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].SnapshotMetadataAt(99));

        // Once compacted at 2, index 1 is gone: only 2 remains allowed.
        cluster.Compact(1, [1, 2, 3], index: 2);
        var compacted = Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].SnapshotMetadataAt(1));
        Assert.Contains("[2, 2]; 1 is not", compacted.Message, StringComparison.Ordinal);
        Assert.Equal(2, cluster[1].SnapshotMetadataAt(2).Index);
    }

    [Fact]
    public void A_node_restarted_from_a_storage_holding_a_snapshot_starts_after_it_with_the_snapshots_membership()
    {
        var cluster = Cluster();
        cluster.AddJoiningNode(4);
        Func<Message, bool> cut4 = m => m.To == 4 || m.From == 4;
        cluster.Elect(1);

        // Node 4 joins as a learner while unreachable, so it gets everything by snapshot later.
        Assert.True(cluster.ProposeConfChange(1, ConfChange.AddLearner(4)).IsAccepted);
        cluster.DeliverAll(cut4);
        cluster.Propose(1, "a");
        cluster.DeliverAll(cut4);
        var snapshot = cluster.Compact(1, StateMachineBytes(SnapshotBytes));
        cluster.Propose(1, "b");
        cluster.DeliverAll(cut4);
        cluster.Tick(1);
        new Wire(cluster).Run();
        AssertInstalled(cluster, 4, snapshot);
        Assert.Equal(new ConfState([1, 2, 3], [4]), snapshot.Metadata.ConfState);

        // It was started with no voters; the membership comes from the snapshot in its storage.
        cluster.Restart(4);
        var node = cluster[4];
        Assert.Equal(snapshot.Metadata.ConfState, node.ConfState);
        Assert.True(node.CommitIndex >= snapshot.Metadata.Index);
        Assert.True(node.AppliedIndex >= snapshot.Metadata.Index);
        Assert.Equal(snapshot.Metadata.Index + 1, node.Log.FirstIndex);
        Assert.Equal(cluster[1].LastIndex, node.LastIndex);

        // Its host restores the state machine from the snapshot: nothing covered by it is handed
        // out to apply again.
        cluster.Applied[4].Clear();
        cluster.Drain(4);
        Assert.All(cluster.Applied[4], e => Assert.True(e.Index > snapshot.Metadata.Index));
    }

    [Fact]
    public void A_crash_between_persisting_a_snapshot_and_the_hard_state_still_restarts_with_the_snapshot_committed_and_applied()
    {
        // The storage holds the snapshot (and an entry after it), but the hard state persisted
        // before it still says commit 0.
        var membership = new ConfState([1, 2, 3], [4]);
        var storage = new MemoryRaftLog();
        storage.ApplySnapshot(new Snapshot(new SnapshotMetadata(5, 2, membership), new byte[] { 9, 9 }));
        storage.Append([new Entry(2, 6, new byte[] { 6 })]);
        storage.SetHardState(new HardState(2, 0, 0));

        var node = new RaftNode(new RaftConfig { Id = 4, Voters = [], RandomSource = new FixedRandomSource() }, storage);

        Assert.Equal((5L, 5L), (node.CommitIndex, node.AppliedIndex));
        Assert.Equal((6L, 6L), (node.Log.FirstIndex, node.LastIndex));
        Assert.Equal(membership, node.ConfState);
        Assert.Equal(2, node.SnapshotMetadataAt(5).Term);
    }

    /// <summary>
    /// Delivers the cluster's messages one at a time, oldest first, and records every message
    /// in the order it was sent, so a test can tell what the leader sent after hearing what.
    /// </summary>
    private sealed class Wire(TestCluster cluster)
    {
        private readonly HashSet<Message> _seen = new(ReferenceEqualityComparer.Instance);

        /// <summary>Every message sent, in order.</summary>
        public List<Message> Sent { get; } = [];

        public void Run(Func<Message, bool>? drop = null, Action<Message>? delivered = null, Action? collected = null)
        {
            Collect(collected);
            for (var steps = 0; cluster.Outbox.Count > 0; steps++)
            {
                Assert.True(steps < 10_000, "The messages never stopped.");
                var m = cluster.Outbox[0];
                cluster.Outbox.RemoveAt(0);
                if (drop?.Invoke(m) == true)
                {
                    continue;
                }

                cluster.Deliver(m);
                delivered?.Invoke(m);
                Collect(collected);
            }
        }

        private void Collect(Action? collected)
        {
            foreach (var m in cluster.Outbox)
            {
                if (_seen.Add(m))
                {
                    Sent.Add(m);
                }
            }

            collected?.Invoke();
        }
    }
}
