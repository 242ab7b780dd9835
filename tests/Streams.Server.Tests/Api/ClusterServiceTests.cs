using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>The Cluster service: DescribeCluster, and what AddNode, RemoveNode and TransferLeadership refuse.</summary>
public sealed class ClusterServiceTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private readonly ApiNode _api = fixture.Api;

    [Fact]
    public async Task DescribeCluster_lists_the_node_the_controller_and_every_shard_group_with_its_leader()
    {
        var name = await _api.NewActiveStreamAsync("described", 2);
        var cluster = await _api.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), ApiNode.Deadline());

        Assert.Equal("node-1", cluster.RespondingNode);
        Assert.Equal("node-1", cluster.ControllerLeader);
        var member = Assert.Single(cluster.Members);
        Assert.Equal("node-1", member.NodeId);
        Assert.Equal(_api.Node.Node.GrpcAddress.ToString().TrimEnd('/'), member.Address.TrimEnd('/'));
        Assert.Equal(MemberRole.Voter, member.Role);
        Assert.True(member.IsControllerLeader);
        Assert.True(member.ReplicaCount >= 2);
        Assert.True(member.LeaderCount >= 2);

        var controller = Assert.Single(cluster.Groups, g => g.Name == "controller");
        Assert.Equal("node-1", controller.Leader);
        Assert.Equal(["node-1"], controller.Voters);
        Assert.True(controller.Term >= 1);
        Assert.True(controller.CommitIndex >= 1);

        foreach (var shard in new[] { "shardId-000000000000", "shardId-000000000001" })
        {
            var group = Assert.Single(cluster.Groups, g => g.Name == $"{name}/{shard}");
            Assert.Equal("node-1", group.Leader);
            Assert.Equal(["node-1"], group.Voters);
            Assert.Empty(group.Learners);
            Assert.NotEqual(controller.GroupId, group.GroupId);
        }

        Assert.Equal(cluster.Groups.Count, cluster.Groups.Select(g => g.GroupId).Distinct().Count());
    }

    [Fact]
    public async Task TransferLeadership_refuses_unknown_nodes_and_groups()
    {
        var name = await _api.NewActiveStreamAsync("transfer", 1);
        Task Transfer(string group, string target) => _api.Cluster.TransferLeadershipAsync(new TransferLeadershipRequest { Group = group, TargetNodeId = target }, ApiNode.Deadline()).ResponseAsync;

        await ApiNode.AssertFailsAsync(() => Transfer("controller", "node-9"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "target_node_id", "node-9");
        await ApiNode.AssertFailsAsync(() => Transfer($"{name}/shardId-000000000000", "node-9"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "target_node_id", "node-9");
        await ApiNode.AssertFailsAsync(() => Transfer("controller", ""), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "target_node_id");
        await ApiNode.AssertFailsAsync(() => Transfer("no-such-group", "node-1"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "group", "no-such-group");
        await ApiNode.AssertFailsAsync(() => Transfer($"{name}/shardId-000000000005", "node-1"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "group");
        await ApiNode.AssertFailsAsync(() => Transfer("missing-stream/shardId-000000000000", "node-1"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "group");

        // Nothing moved.
        var cluster = await _api.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), ApiNode.Deadline());
        Assert.Equal("node-1", cluster.ControllerLeader);
    }

    [Fact]
    public async Task AddNode_and_RemoveNode_refuse_bad_input()
    {
        Task Add(string nodeId, string address) => _api.Cluster.AddNodeAsync(new AddNodeRequest { NodeId = nodeId, Address = address }, ApiNode.Deadline()).ResponseAsync;
        Task Remove(string nodeId) => _api.Cluster.RemoveNodeAsync(new RemoveNodeRequest { NodeId = nodeId }, ApiNode.Deadline()).ResponseAsync;

        await ApiNode.AssertInvalidAsync(() => Add("", "http://127.0.0.1:7400"), "node_id", "required");
        await ApiNode.AssertInvalidAsync(() => Add("bad node!", "http://127.0.0.1:7400"), "node_id", "64", "bad node!");
        await ApiNode.AssertInvalidAsync(() => Add(new string('n', 65), "http://127.0.0.1:7400"), "node_id", "64");
        await ApiNode.AssertInvalidAsync(() => Add("node-2", ""), "address", "http://");
        await ApiNode.AssertInvalidAsync(() => Add("node-2", "127.0.0.1:7400"), "address", "127.0.0.1:7400");
        await ApiNode.AssertInvalidAsync(() => Add("node-2", "ftp://127.0.0.1:7400"), "address", "ftp://127.0.0.1:7400");
        await ApiNode.AssertFailsAsync(() => Add("node-1", "http://127.0.0.1:9999"), StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, "node-1", "already a member");

        await ApiNode.AssertInvalidAsync(() => Remove(""), "node_id", "required");
        await ApiNode.AssertInvalidAsync(() => Remove("no/slashes"), "node_id", "no/slashes");
        await ApiNode.AssertFailsAsync(() => Remove("node-7"), StatusCode.NotFound, StreamsErrors.ResourceNotFound, "node-7", "not a member");
        await ApiNode.AssertFailsAsync(() => Remove("node-1"), StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, "node-1", "last node");

        // The membership is as it was.
        var cluster = await _api.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), ApiNode.Deadline());
        var member = Assert.Single(cluster.Members);
        Assert.Equal(MemberRole.Voter, member.Role);
    }
}
