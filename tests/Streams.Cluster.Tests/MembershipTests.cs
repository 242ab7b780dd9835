using System.Diagnostics;
using System.Globalization;
using System.Text;
using Streams.Rpc;
using Streams.V1;
using Xunit.Abstractions;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests;

/// <summary>
/// Nodes join and leave a running cluster under writes. Three node processes, a stream of four
/// shards replicated three times, idempotent producers writing through the members. A fourth
/// node starts in join mode and is added with Cluster.AddNode: it must become a voter of the
/// controller and take shard replicas, placement moving them one at a time until every node holds
/// as many. Then node-1 is removed with Cluster.RemoveNode: its replicas move away one at a time
/// and it leaves the controller; it is stopped. The replica sets ListShards gives are watched all
/// along: between two observations at most one shard's set changes, by one node out and one in.
/// At the end every shard is read from TRIM_HORIZON on each remaining node: every acknowledged
/// record must be there exactly once, at its acknowledged sequence number, in order, and the nodes
/// must agree.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class MembershipTests(ITestOutputHelper output)
{
    private const string StreamName = "membership-test";
    private const int ShardCount = 4;
    private const int ReplicationFactor = 3;
    private const int Writers = 3;
    private const string Joiner = "node-4";
    private const string Leaver = "node-1";

    // The node the replica sets are watched through: a member from start to end, and one node's
    // metadata only moves forward, which a view gathered from several nodes would not.
    private const string Watcher = "node-2";

    // Acknowledged records wanted on every shard between the steps: writes go on.
    private const int AcksPerShardBetweenSteps = 30;

    private static readonly TimeSpan _stepTimeout = TimeSpan.FromSeconds(60);

    // The nodes the cluster is formed from, members before and after the join (node-1 until it leaves).
    private static readonly string[] _firstNodes = ["node-1", "node-2", "node-3"];

    // A replica move takes at least a few reconciliation rounds (learner, promotion, removal:
    // a quarter of a second or more); the replica sets are polled every 25 ms. Two observations
    // no further apart than this cannot hold two moves; further apart, the watch was blind.
    private static readonly TimeSpan _blindWindow = TimeSpan.FromMilliseconds(150);

    [Fact]
    public async Task A_node_joins_and_another_leaves_under_writes_with_replicas_moving_one_at_a_time()
    {
        var seed = TestSeed.FromEnvironment("STREAMS_CLUSTER_MEMBERSHIP_SEED");
        var random = new Random(seed);
        var timeline = new TestTimeline(output);
        var clock = timeline.Clock;
        var ledger = new WriteLedger(clock);
        var passed = false;
        TestCluster? cluster = null;
        ReplicaSetWatch? watch = null;
        Task[] writers = [];
        using var stopWriters = new CancellationTokenSource();

        void Log(string line) => timeline.Log(line);

        Log($"seed {seed} (rerun with STREAMS_CLUSTER_MEMBERSHIP_SEED={seed})");
        try
        {
            cluster = await TestCluster.StartAsync(3, "membership");
            Log("3 nodes listening");
            await StreamOps.CreateStreamAsync(cluster, cluster.Node(Watcher), StreamName, ShardCount, ReplicationFactor);
            var shards = (await StreamOps.ListShardsAsync(cluster.Node(Watcher), StreamName)).OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
            Assert.Equal(ShardCount, shards.Count);
            Assert.All(shards, s => Assert.Equal(ReplicationFactor, s.Replicas.Count));
            Log($"stream ACTIVE: {string.Join("; ", shards.Select(s => $"{s.ShardId} on [{string.Join(",", s.Replicas)}] led by {s.Leader}"))}");

            watch = new ReplicaSetWatch(cluster.Node(Watcher), clock);
            watch.Start();

            // The nodes writers go through: the members in good standing.
            var targets = new WriteTargets([cluster.Node("node-1"), cluster.Node("node-2"), cluster.Node("node-3")]);
            writers = [.. Enumerable.Range(1, Writers).Select(w =>
            {
                var writerSeed = random.Next();
                return Task.Run(() => IdempotentWriter.WriteUntilStoppedAsync(StreamName, targets.Pick, shards, w, writerSeed, ledger, stopWriters.Token));
            })];
            await WaitForProgressAsync(cluster, shards, ledger, "before node-4 joins");
            Log($"writes go on ({ledger.Acks} acks)");

            // Join: node-4 starts empty, is added, catches up the controller's log as a learner,
            // becomes a voter, and replicas move to it until the four nodes hold as many.
            var joiner = await cluster.StartJoiningNodeAsync(Joiner);
            Log($"{Joiner} listening in join mode at {joiner.GrpcAddress}");
            var joinMark = watch.Count;
            await ChangeMembershipAsync(cluster, random, $"AddNode({Joiner})",
                node => node.Cluster.AddNodeAsync(new AddNodeRequest { NodeId = Joiner, Address = joiner.GrpcAddress.GetLeftPart(UriPartial.Authority) }, TestCluster.Call()).ResponseAsync,
                alreadyDone: ex => ex.StatusCode == StatusCode.FailedPrecondition && ex.Status.Detail.Contains("already a member", StringComparison.Ordinal));
            Log($"AddNode({Joiner}) accepted");

            var survivors = new[] { "node-1", "node-2", "node-3", Joiner };
            await WaitForClusterAsync(cluster, watch, survivors, $"{Joiner} is a voter of the controller and holds shard replicas", views =>
                views.Select(v => JoinerAdmitted(v.Node.Id, v.View)).FirstOrDefault(p => p is not null));
            Log($"{Joiner} is a controller voter holding replicas: {ClusterLine(await cluster.Node(Watcher).Cluster.DescribeClusterAsync(new DescribeClusterRequest(), TestCluster.Call()))}");

            var perNode = ShardCount * ReplicationFactor / survivors.Length;
            await WaitForClusterAsync(cluster, watch, survivors, $"every node holds {perNode} replicas", views =>
                views.Select(v => Balanced(v.Node.Id, v.View, survivors, perNode)).FirstOrDefault(p => p is not null));
            Log($"placement settled: {watch.Last}");
            targets.Set([.. survivors.Select(cluster.Node)]);
            await WaitForProgressAsync(cluster, shards, ledger, $"after {Joiner} joined");
            Log($"writes go on through the four nodes ({ledger.Acks} acks)");

            // Leave: node-1's replicas move away one at a time, then it leaves the controller. It
            // is made to lead the controller and one of its shards first, so that the hardest
            // paths are taken: a shard leader handing over before its removal, and the controller
            // leader removing itself.
            var led = (await StreamOps.ListShardsAsync(cluster.Node(Watcher), StreamName)).First(s => s.Replicas.Contains(Leaver));
            await LeadAsync(cluster, random, "controller");
            await LeadAsync(cluster, random, $"{StreamName}/{led.ShardId}");
            Log($"{Leaver} leads the controller and {led.ShardId}: {ClusterLine(await cluster.Node(Watcher).Cluster.DescribeClusterAsync(new DescribeClusterRequest(), TestCluster.Call()))}");
            var leaveMark = watch.Count;
            await ChangeMembershipAsync(cluster, random, $"RemoveNode({Leaver})",
                node => node.Cluster.RemoveNodeAsync(new RemoveNodeRequest { NodeId = Leaver }, TestCluster.Call()).ResponseAsync,
                alreadyDone: ex => ex.StatusCode == StatusCode.NotFound);
            Log($"RemoveNode({Leaver}) accepted");
            var remaining = new[] { "node-2", "node-3", Joiner };
            await WaitForClusterAsync(cluster, watch, remaining, $"{Leaver} holds no replica and is no member", views =>
                views.Select(v => LeaverGone(v.Node.Id, v.View, remaining)).FirstOrDefault(p => p is not null));
            Log($"{Leaver} is gone: {watch.Last}");

            targets.Set([.. remaining.Select(cluster.Node)]);

            // A write sent through node-1 just before it was dropped from the targets finishes (or fails) first.
            await Task.Delay(500);
            await cluster.Node(Leaver).KillAsync();
            Log($"{Leaver} stopped");
            await WaitForProgressAsync(cluster, shards, ledger, $"after {Leaver} stopped");
            Log($"writes go on through the three remaining nodes ({ledger.Acks} acks)");

            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);
            await watch.StopAsync();
            Log($"writers stopped: {ledger.Acks} records acknowledged in {ledger.BatchesAcked} batches, {ledger.Attempts} attempts; failed attempts: {ledger.FailureSummary()}");

            var readers = remaining.Select(cluster.Node).ToList();
            var reads = await ReadEverywhereAsync(readers, shards);
            Log($"read back: {string.Join("; ", reads.Select(r => $"{r.Key.Id}: {string.Join(", ", r.Value.Select(s => $"{s.ShardId} {s.Records.Count}"))}"))}");

            var problems = new List<string>(ledger.Problems);
            problems.AddRange(watch.Problems);
            var moves = CheckMoves(watch.Observations, joinMark, leaveMark);
            problems.AddRange(moves.Problems);
            problems.AddRange(Verify(readers, shards, reads, ledger));
            foreach (var note in moves.Notes)
            {
                Log($"note: {note}");
            }

            var summary = $"{ledger.Acks} acknowledged records ({ledger.BatchesAcked} batches), {moves.JoinMoves} move(s) to {Joiner}, {moves.LeaveMoves} move(s) off {Leaver}, {clock.Elapsed.TotalSeconds:F1} s; "
                + $"per shard {string.Join(", ", shards.Select(s => $"{s.ShardId} {ledger.AcksOf(s.ShardId)} acked / {reads[readers[0]].Single(r => r.ShardId == s.ShardId).Records.Count} held"))}; "
                + $"failed attempts: {ledger.FailureSummary()}";
            Log(summary);
            Log($"replica sets seen through {Watcher}:\n{watch.Describe()}");
            if (problems.Count > 0)
            {
                Assert.Fail($"{problems.Count} problem(s); the first ones:\n{string.Join('\n', problems.Take(30))}\n{summary}");
            }

            // From 4-4-4-0 to 3-3-3-3, then node-1's three replicas away: no move more than needed.
            Assert.True(moves.JoinMoves == perNode, $"{moves.JoinMoves} replica move(s) to {Joiner}; {perNode} even the load. {summary}");
            Assert.True(moves.LeaveMoves == perNode, $"{moves.LeaveMoves} replica move(s) off {Leaver}, which held {perNode}. {summary}");
            passed = true;
        }
        catch (Exception ex)
        {
            var header = $"seed {seed} (rerun with STREAMS_CLUSTER_MEMBERSHIP_SEED={seed}); {clock.Elapsed.TotalSeconds:F1} s, {ledger.Acks} acks; failed attempts: {ledger.FailureSummary()}.";
            if (watch is not null)
            {
                header += $"\nReplica sets seen through {Watcher}:\n{watch.Describe()}";
            }

            throw await ClusterRun.FailureAsync(ex, header, timeline.Lines, cluster);
        }
        finally
        {
            if (watch is not null)
            {
                await watch.StopAsync();
            }

            await ClusterRun.CleanUpAsync(cluster, stopWriters, writers, passed);
        }
    }

    /// <summary>
    /// AddNode or RemoveNode through a member, again through another while the answer is a
    /// transient error; a repeat that finds the change made (an earlier attempt that looked failed
    /// did it) counts as done.
    /// </summary>
    private static async Task ChangeMembershipAsync(TestCluster cluster, Random random, string what, Func<NodeProcess, Task> call, Func<RpcException, bool> alreadyDone)
    {
        var deadline = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var node = cluster.Node(_firstNodes[random.Next(_firstNodes.Length)]);
            try
            {
                await call(node);
                return;
            }
            catch (RpcException ex) when (attempt > 1 && alreadyDone(ex))
            {
                return;
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex))
            {
                if (deadline.Elapsed > _stepTimeout)
                {
                    throw new TimeoutException($"{what} did not succeed within {_stepTimeout.TotalSeconds} s; last answer ({attempt} attempts): {ex.Status}", ex);
                }

                await Task.Delay(200);
            }
        }
    }

    /// <summary>Hands the leadership of <paramref name="group"/> to <see cref="Leaver"/> (TransferLeadership, again until it leads).</summary>
    private static async Task LeadAsync(TestCluster cluster, Random random, string group)
    {
        var deadline = Stopwatch.StartNew();
        var last = "not asked yet";
        while (true)
        {
            if (await cluster.FindGroupAsync(group) is { } info && info.Leader == Leaver)
            {
                return;
            }

            if (deadline.Elapsed > _stepTimeout)
            {
                throw new TimeoutException($"{Leaver} did not take the leadership of {group} within {_stepTimeout.TotalSeconds} s; last answer: {last}.");
            }

            try
            {
                var via = cluster.Node(_firstNodes[random.Next(_firstNodes.Length)]);
                await via.Cluster.TransferLeadershipAsync(new TransferLeadershipRequest { Group = group, TargetNodeId = Leaver }, TestCluster.Call());
                last = $"accepted through {via.Id}";
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex) || ex.StatusCode == StatusCode.FailedPrecondition)
            {
                last = ex.Status.ToString();
            }

            await Task.Delay(200);
        }
    }

    // Each condition returns why it does not hold yet (null: it holds), for the failure message.
    private static string? JoinerAdmitted(string viewer, DescribeClusterResponse view)
    {
        var member = view.Members.FirstOrDefault(m => m.NodeId == Joiner);
        var controller = view.Groups.FirstOrDefault(g => g.Name == "controller");
        if (member is null)
        {
            return $"{viewer} lists no member {Joiner}";
        }

        if (member.Role != MemberRole.Voter)
        {
            return $"{viewer} lists {Joiner} as {member.Role}";
        }

        if (controller is null || !controller.Voters.Contains(Joiner))
        {
            return $"{viewer}'s controller group has voters [{string.Join(", ", controller?.Voters ?? [])}], learners [{string.Join(", ", controller?.Learners ?? [])}]";
        }

        if (member.ReplicaCount == 0)
        {
            return $"{viewer} lists no replica on {Joiner}";
        }

        return view.Groups.Any(g => g.Name.StartsWith(StreamName + "/", StringComparison.Ordinal) && g.Voters.Contains(Joiner))
            ? null
            : $"{viewer} knows no shard group with {Joiner} among its voters";
    }

    private static string? Balanced(string viewer, DescribeClusterResponse view, string[] nodes, int perNode)
    {
        var counts = nodes.Select(n => (Node: n, Replicas: view.Members.FirstOrDefault(m => m.NodeId == n)?.ReplicaCount ?? -1)).ToList();
        return counts.All(c => c.Replicas == perNode) ? null : $"{viewer} counts replicas {string.Join(", ", counts.Select(c => $"{c.Node}={c.Replicas}"))}";
    }

    private static string? LeaverGone(string viewer, DescribeClusterResponse view, string[] remaining)
    {
        if (view.Members.FirstOrDefault(m => m.NodeId == Leaver) is { } member)
        {
            return $"{viewer} still lists {Leaver} as {member.Role} with {member.ReplicaCount} replica(s)";
        }

        var controller = view.Groups.FirstOrDefault(g => g.Name == "controller");
        if (controller is null || controller.Voters.Contains(Leaver) || controller.Learners.Contains(Leaver))
        {
            return $"{viewer}'s controller group has voters [{string.Join(", ", controller?.Voters ?? [])}], learners [{string.Join(", ", controller?.Learners ?? [])}]";
        }

        var members = view.Members.Select(m => m.NodeId).Order(StringComparer.Ordinal).ToList();
        if (!members.SequenceEqual(remaining.Order(StringComparer.Ordinal)))
        {
            return $"{viewer} lists members [{string.Join(", ", members)}]";
        }

        var holding = view.Groups.Where(g => g.Name.StartsWith(StreamName + "/", StringComparison.Ordinal) && (g.Voters.Contains(Leaver) || g.Learners.Contains(Leaver))).Select(g => g.Name).ToList();
        return holding.Count == 0 ? null : $"{viewer} sees {Leaver} in groups {string.Join(", ", holding)}";
    }

    /// <summary>
    /// Polls DescribeCluster on <paramref name="viewers"/> (and the replica sets the watch keeps)
    /// until <paramref name="problem"/> finds nothing wrong in any of their views, for at most
    /// <see cref="_stepTimeout"/>; the failure message has what every node saw last.
    /// </summary>
    private static async Task WaitForClusterAsync(TestCluster cluster, ReplicaSetWatch watch, string[] viewers, string what,
        Func<List<(NodeProcess Node, DescribeClusterResponse View)>, string?> problem)
    {
        var deadline = Stopwatch.StartNew();
        string? last = "no answer yet";
        while (true)
        {
            var views = new List<(NodeProcess Node, DescribeClusterResponse View)>();
            try
            {
                foreach (var id in viewers)
                {
                    var node = cluster.Node(id);
                    views.Add((node, await node.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), TestCluster.Call(TimeSpan.FromSeconds(3)))));
                }

                last = problem(views);
                if (last is null)
                {
                    return;
                }
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex))
            {
                last = $"{views.Count} view(s), then {ex.Status}";
            }

            if (deadline.Elapsed > _stepTimeout)
            {
                var text = new StringBuilder($"Not within {_stepTimeout.TotalSeconds} s: {what}. Last seen: {last}.\nEvery node's DescribeCluster:\n");
                foreach (var (node, view) in await cluster.DescribeAllAsync())
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {node.Id}: {(view is null ? "no answer" : ClusterLine(view))}\n");
                }

                text.Append(CultureInfo.InvariantCulture, $"Latest replica sets through {Watcher}: {watch.Last}");
                throw new TimeoutException(text.ToString());
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A DescribeCluster answer in one line: members with their roles and counts, then every group.</summary>
    private static string ClusterLine(DescribeClusterResponse view) =>
        $"controller leader {(view.ControllerLeader.Length > 0 ? view.ControllerLeader : "none")}; members "
        + string.Join(", ", view.Members.OrderBy(m => m.NodeId, StringComparer.Ordinal).Select(m => $"{m.NodeId} {m.Role} {m.ReplicaCount}r/{m.LeaderCount}l"))
        + "; groups "
        + string.Join("; ", view.Groups.Select(g => $"{g.Name} leader={(g.Leader.Length > 0 ? g.Leader : "none")} term={g.Term} voters=[{string.Join(",", g.Voters)}]{(g.Learners.Count > 0 ? $" learners=[{string.Join(",", g.Learners)}]" : "")}"));

    /// <summary>
    /// Checks the replica sets seen and counts the moves: the first is the three first nodes on
    /// every shard; between two observations one shard changed, by one node out and one in; after
    /// AddNode every replica moves to the new node, after RemoveNode off the leaving one; the last
    /// is the remaining nodes on every shard. Two observations further apart than
    /// <see cref="_blindWindow"/> (the test process or the watcher node stalled) may legitimately
    /// hold several moves: then each changed shard must still have moved one replica, and the
    /// window is noted, not failed.
    /// </summary>
    private static MoveReport CheckMoves(IReadOnlyList<ReplicaSetObservation> observations, int joinMark, int leaveMark)
    {
        var report = new MoveReport();
        if (observations.Count == 0)
        {
            report.Problems.Add($"no replica set was ever seen through {Watcher}");
            return report;
        }

        var first = observations[0];
        if (first.Sets.Values.Any(set => !set.SetEquals(["node-1", "node-2", "node-3"])))
        {
            report.Problems.Add($"the first replica sets seen are not node-1, node-2, node-3 on every shard: {first}");
        }

        for (var i = 1; i < observations.Count; i++)
        {
            var (before, after) = (observations[i - 1], observations[i]);
            var phase = i >= leaveMark ? Phase.Leave : i >= joinMark ? Phase.Join : Phase.Before;
            var changed = after.Sets.Keys.Union(before.Sets.Keys).Where(shard =>
                !before.Sets.TryGetValue(shard, out var b) || !after.Sets.TryGetValue(shard, out var a) || !a.SetEquals(b)).ToList();
            var window = after.AnsweredAt - after.PreviousAskedAt;
            if (changed.Count > 1)
            {
                if (window <= _blindWindow.TotalSeconds)
                {
                    report.Problems.Add($"between observations {i - 1} and {i} ({window * 1000:F0} ms apart, at {after.AnsweredAt:F2}s) {changed.Count} shards changed replicas ({string.Join(", ", changed)}); one move at a time allows one: {before} -> {after}");
                }
                else
                {
                    report.Notes.Add($"observations {i - 1} and {i} are {window * 1000:F0} ms apart (the watch was blind from {after.PreviousAskedAt:F2}s to {after.AnsweredAt:F2}s) and {changed.Count} shards changed between them");
                }
            }

            foreach (var shard in changed)
            {
                if (!before.Sets.TryGetValue(shard, out var from) || !after.Sets.TryGetValue(shard, out var to))
                {
                    report.Problems.Add($"observation {i}: shard {shard} appeared or vanished: {before} -> {after}");
                    continue;
                }

                var gone = from.Except(to).ToList();
                var added = to.Except(from).ToList();
                if (gone.Count != 1 || added.Count != 1 || to.Count != ReplicationFactor)
                {
                    report.Problems.Add($"observation {i}: {shard} went from [{string.Join(",", from.Order(StringComparer.Ordinal))}] to [{string.Join(",", to.Order(StringComparer.Ordinal))}], not one replica moved");
                    continue;
                }

                switch (phase)
                {
                    case Phase.Before:
                        report.Problems.Add($"observation {i}: {shard} moved a replica off {gone[0]} to {added[0]} before any node was added or removed");
                        break;
                    case Phase.Join:
                        report.JoinMoves++;
                        if (added[0] != Joiner)
                        {
                            report.Problems.Add($"observation {i}: after AddNode({Joiner}), {shard} moved a replica off {gone[0]} to {added[0]}, not to {Joiner}");
                        }

                        break;
                    case Phase.Leave:
                        report.LeaveMoves++;
                        if (gone[0] != Leaver)
                        {
                            report.Problems.Add($"observation {i}: after RemoveNode({Leaver}), {shard} moved a replica off {gone[0]} to {added[0]}, not off {Leaver}");
                        }

                        break;
                }
            }
        }

        var last = observations[^1];
        if (last.Sets.Count != ShardCount || last.Sets.Values.Any(set => !set.SetEquals(["node-2", "node-3", Joiner])))
        {
            report.Problems.Add($"the last replica sets seen are not node-2, node-3, {Joiner} on every shard: {last}");
        }

        return report;
    }

    /// <summary>Waits until every shard has taken <see cref="AcksPerShardBetweenSteps"/> more acknowledged records.</summary>
    private static async Task WaitForProgressAsync(TestCluster cluster, List<Shard> shards, WriteLedger ledger, string when)
    {
        var start = shards.ToDictionary(s => s.ShardId, s => ledger.AcksOf(s.ShardId));
        var deadline = Stopwatch.StartNew();
        while (shards.Any(s => ledger.AcksOf(s.ShardId) < start[s.ShardId] + AcksPerShardBetweenSteps))
        {
            if (deadline.Elapsed > _stepTimeout)
            {
                var leaders = new List<string>();
                foreach (var s in shards)
                {
                    var group = await cluster.FindGroupAsync($"{StreamName}/{s.ShardId}");
                    leaders.Add($"{s.ShardId}: {ledger.AcksOf(s.ShardId) - start[s.ShardId]} new acks, leader {group?.Leader ?? "none"} (term {group?.Term})");
                }

                throw new TimeoutException(
                    $"The shards did not each take {AcksPerShardBetweenSteps} more acknowledged records within {_stepTimeout.TotalSeconds} s {when}: "
                    + $"{string.Join("; ", leaders)}. Failed attempts so far: {ledger.FailureSummary()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Every shard as each of <paramref name="nodes"/> returns it, from TRIM_HORIZON to the end,
    /// repeated until the nodes agree (a replica a moment behind) or for at most half a minute.
    /// </summary>
    private static async Task<Dictionary<NodeProcess, List<ShardRead>>> ReadEverywhereAsync(List<NodeProcess> nodes, List<Shard> shards)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reads = new Dictionary<NodeProcess, List<ShardRead>>();
            foreach (var node in nodes)
            {
                var list = new List<ShardRead>();
                foreach (var shard in shards)
                {
                    list.Add(await ReadWithRetriesAsync(node, shard.ShardId));
                }

                reads[node] = list;
            }

            var agree = shards.All(shard =>
            {
                var first = reads[nodes[0]].Single(r => r.ShardId == shard.ShardId).Records;
                return nodes.Skip(1).All(n => SameRecords(first, reads[n].Single(r => r.ShardId == shard.ShardId).Records));
            });
            if (agree || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                return reads;
            }

            await Task.Delay(500);
        }
    }

    private static async Task<ShardRead> ReadWithRetriesAsync(NodeProcess node, string shardId)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StreamOps.ReadShardAsync(node, StreamName, shardId);
            }
            catch (RpcException ex) when (StreamOps.IsTransient(ex) && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    private static bool SameRecords(IReadOnlyList<Record> left, IReadOnlyList<Record> right) =>
        left.Count == right.Count && left.Zip(right).All(p => p.First.Equals(p.Second));

    private static List<string> Verify(List<NodeProcess> nodes, List<Shard> shards, Dictionary<NodeProcess, List<ShardRead>> reads, WriteLedger ledger)
    {
        var problems = new List<string>();
        var reference = nodes[0];
        foreach (var shard in shards)
        {
            var expected = reads[reference].Single(r => r.ShardId == shard.ShardId).Records;
            foreach (var node in nodes.Skip(1))
            {
                var other = reads[node].Single(r => r.ShardId == shard.ShardId).Records;
                if (!SameRecords(expected, other))
                {
                    var at = Enumerable.Range(0, Math.Min(expected.Count, other.Count)).FirstOrDefault(i => !expected[i].Equals(other[i]), Math.Min(expected.Count, other.Count));
                    problems.Add(
                        $"{shard.ShardId}: {node.Id} returned {other.Count} records, {reference.Id} {expected.Count}; first difference at position {at}: "
                        + $"{(at < other.Count ? StreamOps.Describe(other[at]) : "none")} on {node.Id} against {(at < expected.Count ? StreamOps.Describe(expected[at]) : "none")} on {reference.Id}");
                }
            }

            foreach (var node in nodes)
            {
                var records = reads[node].Single(r => r.ShardId == shard.ShardId).Records;
                for (var i = 1; i < records.Count; i++)
                {
                    if (StreamOps.CompareSequenceNumbers(records[i - 1].SequenceNumber, records[i].SequenceNumber) >= 0)
                    {
                        problems.Add($"{shard.ShardId} on {node.Id}: record {i} {StreamOps.Describe(records[i])} does not follow {StreamOps.Describe(records[i - 1])} in sequence-number order");
                    }
                }

                foreach (var record in records.Where(r => !ledger.WasSent(r.Data.ToStringUtf8())))
                {
                    problems.Add($"{shard.ShardId} on {node.Id}: {StreamOps.Describe(record)} was never written by a client");
                }
            }
        }

        foreach (var node in nodes)
        {
            problems.AddRange(ledger.ProblemsOn(node.Id, reads[node]));
        }

        problems.AddRange(ledger.Clashes());

        return problems;
    }

    /// <summary>The nodes the writers go through, changed by the test as members come and go.</summary>
    private sealed class WriteTargets(NodeProcess[] initial)
    {
        private volatile NodeProcess[] _nodes = initial;

        public void Set(NodeProcess[] nodes) => _nodes = nodes;

        public NodeProcess Pick(Random random)
        {
            var nodes = _nodes;
            return nodes[random.Next(nodes.Length)];
        }
    }

    private enum Phase
    {
        Before,
        Join,
        Leave,
    }

    /// <summary>What <see cref="CheckMoves"/> found.</summary>
    private sealed class MoveReport
    {
        public List<string> Problems { get; } = [];

        public List<string> Notes { get; } = [];

        public int JoinMoves { get; set; }

        public int LeaveMoves { get; set; }
    }

    /// <summary>
    /// The replica set of every shard, as one node's ListShards gave it: asked at
    /// <paramref name="AskedAt"/>, answered at <paramref name="AnsweredAt"/>; the poll before it
    /// (which saw the previous sets) was asked at <paramref name="PreviousAskedAt"/>.
    /// </summary>
    private sealed record ReplicaSetObservation(double PreviousAskedAt, double AskedAt, double AnsweredAt, IReadOnlyDictionary<string, HashSet<string>> Sets)
    {
        public override string ToString() =>
            string.Join(" ", Sets.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key[^2..]}=[{string.Join(",", s.Value.Order(StringComparer.Ordinal))}]"));
    }

    /// <summary>
    /// Polls ListShards through one node every 25 ms in the background and keeps each distinct
    /// set of replica sets, in the order seen; a move takes several reconciliation rounds, far
    /// longer than a poll, so none is missed.
    /// </summary>
    private sealed class ReplicaSetWatch(NodeProcess node, Stopwatch clock)
    {
        private readonly List<ReplicaSetObservation> _observations = [];
        private readonly List<string> _problems = [];
        private readonly List<string> _slow = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _polling = Task.CompletedTask;
        private int _polls;

        public IReadOnlyList<ReplicaSetObservation> Observations
        {
            get
            {
                lock (_observations)
                {
                    return [.. _observations];
                }
            }
        }

        public IReadOnlyList<string> Problems
        {
            get
            {
                lock (_observations)
                {
                    return [.. _problems];
                }
            }
        }

        /// <summary>How many distinct observations so far: changes since a mark are <c>Count - mark</c>.</summary>
        public int Count
        {
            get
            {
                lock (_observations)
                {
                    return _observations.Count;
                }
            }
        }

        public string Last => Observations is { Count: > 0 } all ? all[^1].ToString() : "none yet";

        public void Start() => _polling = Task.Run(PollAsync);

        public async Task StopAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
            }

            await _polling;
        }

        public string Describe()
        {
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"  ({Volatile.Read(ref _polls)} polls)\n");
            foreach (var (observation, i) in Observations.Select((o, i) => (o, i)))
            {
                text.Append(CultureInfo.InvariantCulture, $"  #{i} {observation.AnsweredAt,7:F2}s {observation}\n");
            }

            lock (_observations)
            {
                text.Append(CultureInfo.InvariantCulture, $"  windows over {_blindWindow.TotalMilliseconds} ms without an answer, and failed polls: ").AppendJoin("; ", _slow).Append('\n');
            }

            return text.ToString();
        }

        private async Task PollAsync()
        {
            var previousAsked = clock.Elapsed.TotalSeconds;
            while (!_stop.IsCancellationRequested)
            {
                var asked = clock.Elapsed.TotalSeconds;
                try
                {
                    var shards = await StreamOps.ListShardsAsync(node, StreamName);
                    var answered = clock.Elapsed.TotalSeconds;
                    if (answered - previousAsked > _blindWindow.TotalSeconds)
                    {
                        lock (_observations)
                        {
                            _slow.Add($"{previousAsked:F2}s..{answered:F2}s (this poll asked at {asked:F2}s)");
                        }
                    }

                    Interlocked.Increment(ref _polls);
                    var sets = shards.ToDictionary(s => s.ShardId, s => s.Replicas.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
                    lock (_observations)
                    {
                        foreach (var shard in shards.Where(s => s.Replicas.Count != ReplicationFactor || s.Replicas.Distinct().Count() != s.Replicas.Count))
                        {
                            _problems.Add($"{clock.Elapsed.TotalSeconds:F2}s ListShards through {node.Id} gives {shard.ShardId} replicas [{string.Join(",", shard.Replicas)}]");
                        }

                        var last = _observations.Count > 0 ? _observations[^1] : null;
                        if (last is null || last.Sets.Count != sets.Count || sets.Any(s => !last.Sets.TryGetValue(s.Key, out var before) || !before.SetEquals(s.Value)))
                        {
                            _observations.Add(new ReplicaSetObservation(previousAsked, asked, answered, sets));
                        }
                    }

                    previousAsked = asked;
                }
                catch (RpcException ex)
                {
                    // Node busy or a call timed out: poll again.
                    lock (_observations)
                    {
                        _slow.Add($"{asked:F2}s..{clock.Elapsed.TotalSeconds:F2}s failed: {ex.Status}");
                    }
                }

                try
                {
                    await Task.Delay(25, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
