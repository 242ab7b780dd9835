using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Streams.V1;
using Xunit.Abstractions;
using Xunit.Sdk;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests;

/// <summary>
/// Any node takes any request: a stream created through node-1, written through node-2, read
/// through node-3 with iterators handed from node to node, including shards the reading node holds
/// no replica of (a stream with one replica per shard); and every node describes the same cluster.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class AnyNodeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_stream_is_created_written_and_read_through_different_nodes_and_all_nodes_agree_on_the_cluster()
    {
        var clock = Stopwatch.StartNew();
        var passed = false;
        TestCluster? cluster = null;
        try
        {
            cluster = await TestCluster.StartAsync(3, "anynode");
            var (node1, node2, node3) = (cluster.Node("node-1"), cluster.Node("node-2"), cluster.Node("node-3"));
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F2}s 3 nodes listening");

            // Three replicas per shard: every node holds every shard; writes are forwarded to leaders.
            await StreamOps.CreateStreamAsync(cluster, node1, "any-node", 2, replicationFactor: 3);
            var notes = new List<string>();
            await CheckThroughOtherNodesAsync(cluster, "any-node", node2, node3, node1, records: 40, notes);
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F2}s any-node (2 shards, 3 replicas): written through node-2, read through node-3 and node-1");

            // One replica per shard: most reads and writes reach a node without the shard and are forwarded.
            await StreamOps.CreateStreamAsync(cluster, node3, "any-node-rf1", 3, replicationFactor: 1);
            var rf1 = await StreamOps.ListShardsAsync(node1, "any-node-rf1");
            Assert.All(rf1, s => Assert.Single(s.Replicas));
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F2}s any-node-rf1 replicas: {string.Join(", ", rf1.Select(s => $"{s.ShardId} on {s.Replicas[0]}"))}");
            foreach (var (writer, iteratorFrom, reader) in new[] { (node1, node2, node3), (node2, node3, node1), (node3, node1, node2) })
            {
                await CheckThroughOtherNodesAsync(cluster, "any-node-rf1", writer, iteratorFrom, reader, records: 30, notes);
            }

            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F2}s any-node-rf1 (3 shards, 1 replica): written, iterated and read through every node");

            foreach (var note in notes)
            {
                output.WriteLine($"note: {note}");
            }

            var views = await WaitForAgreementAsync(cluster, ["any-node", "any-node-rf1"], TimeSpan.FromSeconds(30));
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F2}s every node describes the same cluster: controller leader {views[0].ControllerLeader}; "
                + string.Join("; ", views[0].Groups.OrderBy(g => g.Name, StringComparer.Ordinal).Select(g => $"{g.Name} led by {g.Leader}")));
            passed = true;
        }
        catch (Exception ex) when (cluster is not null)
        {
            throw new XunitException($"{ex.Message}\nafter {clock.Elapsed.TotalSeconds:F1} s; node data kept in {cluster.Root}, every node's whole output in {cluster.SaveOutputs()}.\n{await cluster.DescribeAsync(40)}", ex);
        }
        finally
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
                if (passed)
                {
                    cluster.DeleteData();
                }
            }
        }
    }

    /// <summary>
    /// Writes through <paramref name="writer"/> (PutRecords, then PutRecord), then reads every shard
    /// with an iterator from <paramref name="iteratorFrom"/>, the GetRecords calls going round the
    /// nodes starting at <paramref name="reader"/>; then iterators at and after a sequence number.
    /// </summary>
    private static async Task CheckThroughOtherNodesAsync(TestCluster cluster, string streamName, NodeProcess writer, NodeProcess iteratorFrom, NodeProcess reader, int records, List<string> notes)
    {
        var tag = $"{writer.Id}-{Guid.NewGuid():N}";
        var request = new PutRecordsRequest { StreamName = streamName };
        for (var i = 0; i < records; i++)
        {
            request.Records.Add(new PutRecordsRequestEntry { Data = ByteString.CopyFromUtf8($"{tag}-{i}"), PartitionKey = $"{tag}-key-{i}" });
        }

        var response = await writer.Streams.PutRecordsAsync(request, TestCluster.Call(TimeSpan.FromSeconds(30)));
        Assert.True(response.FailedRecordCount == 0, $"PutRecords through {writer.Id}: {response.FailedRecordCount} failed: {string.Join("; ", response.Records.Where(r => r.ErrorCode.Length > 0).Select(r => $"{r.ErrorCode} {r.ErrorMessage}").Distinct())}");
        var acked = request.Records.Zip(response.Records, (r, a) => (a.ShardId, a.SequenceNumber, Data: r.Data.ToStringUtf8(), r.PartitionKey)).ToList();
        var single = await writer.Streams.PutRecordAsync(
            new PutRecordRequest { StreamName = streamName, Data = ByteString.CopyFromUtf8($"{tag}-single"), PartitionKey = $"{tag}-single" },
            TestCluster.Call(TimeSpan.FromSeconds(30)));
        acked.Add((single.ShardId, single.SequenceNumber, $"{tag}-single", $"{tag}-single"));

        var nodes = cluster.Nodes.ToList();
        var shards = await StreamOps.ListShardsAsync(iteratorFrom, streamName);
        foreach (var shard in shards)
        {
            var expected = acked.Where(a => a.ShardId == shard.ShardId).ToList();

            // A replica a moment behind the leader may not hold the newest records yet: the read is
            // repeated (for up to 10 s) until it holds them, and the output says when it had to be.
            var watch = Stopwatch.StartNew();
            List<Record> read;
            List<string> calls;
            List<(string ShardId, string SequenceNumber, string Data, string PartitionKey)> got;
            for (var attempt = 1; ; attempt++)
            {
                (read, calls) = await ReadAroundAsync(nodes, streamName, shard.ShardId, iteratorFrom, reader);

                // Earlier checks may have written to this stream: only this check's records are compared.
                got = [.. read.Where(r => r.Data.ToStringUtf8().StartsWith(tag + "-", StringComparison.Ordinal)).Select(r => (shard.ShardId, r.SequenceNumber, Data: r.Data.ToStringUtf8(), r.PartitionKey))];
                if (expected.SequenceEqual(got) || watch.Elapsed > TimeSpan.FromSeconds(10))
                {
                    if (attempt > 1)
                    {
                        notes.Add($"{streamName}/{shard.ShardId}: {attempt} reads through {string.Join(" ", calls.Distinct())} over {watch.ElapsedMilliseconds} ms before every record acknowledged through {writer.Id} was returned");
                    }

                    break;
                }

                await Task.Delay(100);
            }

            Assert.True(expected.SequenceEqual(got),
                $"{streamName}/{shard.ShardId} (replicas {string.Join(", ", shard.Replicas)}), written through {writer.Id}, iterator from {iteratorFrom.Id}, "
                + $"read through {string.Join(" ", calls)}: expected {expected.Count} records [{string.Join(", ", expected.Select(e => $"{e.SequenceNumber} {e.Data}"))}], "
                + $"got {got.Count} [{string.Join(", ", got.Select(e => $"{e.SequenceNumber} {e.Data}"))}]");
            for (var i = 1; i < read.Count; i++)
            {
                Assert.True(StreamOps.CompareSequenceNumbers(read[i - 1].SequenceNumber, read[i].SequenceNumber) < 0, $"{shard.ShardId}: {read[i].SequenceNumber} follows {read[i - 1].SequenceNumber}");
            }

            if (expected.Count == 0)
            {
                continue;
            }

            // AT_SEQUENCE_NUMBER from one node, read through another: exactly that record first;
            // AFTER_SEQUENCE_NUMBER: the next one.
            var target = expected[expected.Count / 2];
            var at = await IteratorAtAsync(iteratorFrom, new GetShardIteratorRequest { StreamName = streamName, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.AtSequenceNumber, StartingSequenceNumber = target.SequenceNumber }, notes);
            var atRead = await reader.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = at, Limit = 1 }, TestCluster.Call());
            Assert.True(atRead.Records.Count == 1 && atRead.Records[0].SequenceNumber == target.SequenceNumber && atRead.Records[0].Data.ToStringUtf8() == target.Data,
                $"AT_SEQUENCE_NUMBER {target.SequenceNumber} of {shard.ShardId} from {iteratorFrom.Id} read through {reader.Id} gave [{string.Join(", ", atRead.Records.Select(StreamOps.Describe))}]");

            var after = await IteratorAtAsync(reader, new GetShardIteratorRequest { StreamName = streamName, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.AfterSequenceNumber, StartingSequenceNumber = target.SequenceNumber }, notes);
            var afterRead = await writer.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = after, Limit = 1 }, TestCluster.Call());
            var next = read.SkipWhile(r => r.SequenceNumber != target.SequenceNumber).Skip(1).FirstOrDefault();
            Assert.True(next is null ? afterRead.Records.Count == 0 : afterRead.Records.Count == 1 && afterRead.Records[0].Equals(next),
                $"AFTER_SEQUENCE_NUMBER {target.SequenceNumber} of {shard.ShardId} from {reader.Id} read through {writer.Id} gave [{string.Join(", ", afterRead.Records.Select(StreamOps.Describe))}], expected {(next is null ? "nothing" : StreamOps.Describe(next))}");
        }
    }

    /// <summary>
    /// Reads a shard from TRIM_HORIZON with an iterator from <paramref name="iteratorFrom"/>, in
    /// small pages, each GetRecords through the next node starting at <paramref name="reader"/>:
    /// an iterator from any node works on every node.
    /// </summary>
    private static async Task<(List<Record> Records, List<string> Calls)> ReadAroundAsync(List<NodeProcess> nodes, string streamName, string shardId, NodeProcess iteratorFrom, NodeProcess reader)
    {
        var iterator = (await iteratorFrom.Streams.GetShardIteratorAsync(
            new GetShardIteratorRequest { StreamName = streamName, ShardId = shardId, ShardIteratorType = ShardIteratorType.TrimHorizon },
            TestCluster.Call())).ShardIterator;
        var read = new List<Record>();
        var calls = new List<string>();
        var via = nodes.IndexOf(reader);
        for (var page = 0; page < 1000; page++)
        {
            var node = nodes[via++ % nodes.Count];
            calls.Add(node.Id);
            var result = await node.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 7 }, TestCluster.Call());
            read.AddRange(result.Records);
            Assert.False(result.NextShardIterator.Length == 0, $"GetRecords of open shard {shardId} through {node.Id} returned no next iterator");
            if (result.Records.Count == 0 && result.MillisBehindLatest == 0)
            {
                break;
            }

            iterator = result.NextShardIterator;
        }

        return (read, calls);
    }

    /// <summary>
    /// GetShardIterator at or after a sequence number acknowledged through another node. A replica
    /// that has not applied it yet refuses it as not of the shard: asked again for up to 10 s, noted.
    /// </summary>
    private static async Task<string> IteratorAtAsync(NodeProcess node, GetShardIteratorRequest request, List<string> notes)
    {
        var watch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var iterator = (await node.Streams.GetShardIteratorAsync(request, TestCluster.Call())).ShardIterator;
                if (attempt > 1)
                {
                    notes.Add($"{request.ShardIteratorType} {request.StartingSequenceNumber} of {request.ShardId} through {node.Id} was refused {attempt - 1} time(s) over {watch.ElapsedMilliseconds} ms before it was accepted");
                }

                return iterator;
            }
            catch (Rpc.RpcException ex) when (ex.StatusCode == Rpc.StatusCode.InvalidArgument && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// Polls every node's DescribeCluster (and ListShards) until they agree: the three members with
    /// their addresses, one controller leader, the same groups with the same leaders, and the
    /// shard leaders ListShards gives. Returns the views.
    /// </summary>
    private static async Task<DescribeClusterResponse[]> WaitForAgreementAsync(TestCluster cluster, string[] streams, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var disagreement = "no answer yet";
        while (true)
        {
            try
            {
                var views = new List<DescribeClusterResponse>();
                foreach (var node in cluster.Nodes)
                {
                    views.Add(await node.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), TestCluster.Call()));
                }

                var listed = new List<(string Node, string Stream, Shard Shard)>();
                foreach (var node in cluster.Nodes)
                {
                    foreach (var stream in streams)
                    {
                        listed.AddRange((await StreamOps.ListShardsAsync(node, stream)).Select(s => (node.Id, stream, s)));
                    }
                }

                disagreement = Disagreement(cluster, streams, views, listed);
                if (disagreement is null)
                {
                    return [.. views];
                }
            }
            catch (Rpc.RpcException ex) when (StreamOps.IsTransient(ex))
            {
                disagreement = ex.Status.ToString();
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The nodes did not describe the same cluster within {timeout.TotalSeconds} s: {disagreement}");
            }

            await Task.Delay(250);
        }
    }

    private static string? Disagreement(TestCluster cluster, string[] streams, List<DescribeClusterResponse> views, List<(string Node, string Stream, Shard Shard)> listed)
    {
        var problems = new StringBuilder();
        var expectedMembers = string.Join(", ", cluster.Nodes.Select(n => $"{n.Id}={n.GrpcAddress.GetLeftPart(UriPartial.Authority)}"));
        for (var i = 0; i < views.Count; i++)
        {
            var (node, view) = (cluster.Nodes[i], views[i]);
            if (view.RespondingNode != node.Id)
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} answers as responding_node '{view.RespondingNode}'. ");
            }

            var members = string.Join(", ", view.Members.OrderBy(m => m.NodeId, StringComparer.Ordinal).Select(m => $"{m.NodeId}={new Uri(m.Address).GetLeftPart(UriPartial.Authority)}"));
            if (members != expectedMembers)
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} lists members [{members}], expected [{expectedMembers}]. ");
            }

            if (view.Members.Any(m => m.Role != MemberRole.Voter))
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} lists roles {string.Join(", ", view.Members.Select(m => $"{m.NodeId} {m.Role}"))}. ");
            }

            if (view.ControllerLeader.Length == 0 || view.Members.Count(m => m.IsControllerLeader) != 1 || view.Members.Single(m => m.IsControllerLeader).NodeId != view.ControllerLeader)
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} names controller leader '{view.ControllerLeader}' and marks [{string.Join(", ", view.Members.Where(m => m.IsControllerLeader).Select(m => m.NodeId))}]. ");
            }

            var names = view.Groups.Select(g => g.Name).Order(StringComparer.Ordinal).ToList();
            var expectedNames = listed.Where(l => l.Node == node.Id).Select(l => $"{l.Stream}/{l.Shard.ShardId}").Append("controller").Order(StringComparer.Ordinal).ToList();
            if (!names.SequenceEqual(expectedNames))
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} lists groups [{string.Join(", ", names)}], expected [{string.Join(", ", expectedNames)}]. ");
            }

            foreach (var group in view.Groups.Where(g => g.Leader.Length == 0))
            {
                problems.Append(CultureInfo.InvariantCulture, $"{node.Id} knows no leader of {group.Name}. ");
            }
        }

        var controllers = views.Select(v => v.ControllerLeader).Distinct().ToList();
        if (controllers.Count != 1)
        {
            problems.Append(CultureInfo.InvariantCulture, $"the nodes name different controller leaders: {string.Join(", ", views.Select((v, i) => $"{cluster.Nodes[i].Id} says {v.ControllerLeader}"))}. ");
        }

        foreach (var group in views.SelectMany(v => v.Groups).Select(g => g.Name).Distinct())
        {
            var leaders = views.Select((v, i) => (Node: cluster.Nodes[i].Id, Leader: v.Groups.FirstOrDefault(g => g.Name == group)?.Leader ?? "(no group)")).ToList();
            if (leaders.Select(l => l.Leader).Distinct().Count() != 1)
            {
                problems.Append(CultureInfo.InvariantCulture, $"leaders of {group} differ: {string.Join(", ", leaders.Select(l => $"{l.Node} says {l.Leader}"))}. ");
            }
        }

        foreach (var (node, stream, shard) in listed)
        {
            var group = views[0].Groups.FirstOrDefault(g => g.Name == $"{stream}/{shard.ShardId}");
            if (group is not null && shard.Leader != group.Leader)
            {
                problems.Append(CultureInfo.InvariantCulture, $"ListShards through {node} gives {stream}/{shard.ShardId} leader '{shard.Leader}', DescribeCluster '{group.Leader}'. ");
            }

            if (group is not null && !shard.Replicas.Order(StringComparer.Ordinal).SequenceEqual(group.Voters.Order(StringComparer.Ordinal)))
            {
                problems.Append(CultureInfo.InvariantCulture, $"ListShards through {node} gives {stream}/{shard.ShardId} replicas [{string.Join(", ", shard.Replicas)}], DescribeCluster voters [{string.Join(", ", group.Voters)}]. ");
            }
        }

        return problems.Length == 0 ? null : problems.ToString();
    }
}
