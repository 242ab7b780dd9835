using System.Text.Json;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class ClusterCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Status_prints_members_and_groups()
    {
        _server.Cluster.Cluster = new DescribeClusterResponse
        {
            ControllerLeader = "node-1",
            RespondingNode = "node-2",
            Members =
            {
                new Member { NodeId = "node-1", Address = "http://10.0.0.1:7400", Role = MemberRole.Voter, IsControllerLeader = true, ReplicaCount = 3, LeaderCount = 2 },
                new Member { NodeId = "node-2", Address = "http://10.0.0.2:7400", Role = MemberRole.Learner, ReplicaCount = 1 },
            },
            Groups =
            {
                new RaftGroupInfo { GroupId = 1, Name = "controller", Leader = "node-1", Term = 7, Voters = { "node-1" }, Learners = { "node-2" }, CommitIndex = 120 },
                new RaftGroupInfo { GroupId = 2, Name = "orders/shardId-000000000000", Leader = "node-1", Term = 3, Voters = { "node-1", "node-2" }, CommitIndex = 5 },
            },
        };

        var result = await _server.RunAsync("cluster", "status");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            [
                "controller leader  node-1",
                "answered by        node-2",
                "NODE    ADDRESS               ROLE     CONTROLLER  REPLICAS  LEADS",
                "node-1  http://10.0.0.1:7400  VOTER    leader      3         2",
                "node-2  http://10.0.0.2:7400  LEARNER  -           1         0",
                "GROUP                        LEADER  TERM  VOTERS         LEARNERS  COMMIT",
                "controller                   node-1  7     node-1         node-2    120",
                "orders/shardId-000000000000  node-1  3     node-1,node-2  -         5",
            ],
            result.Lines);
    }

    [Fact]
    public async Task Membership_and_leadership_commands_send_their_requests()
    {
        Assert.Equal(0, (await _server.RunAsync("cluster", "add-node", "node-4", "http://10.0.0.4:7400")).ExitCode);
        Assert.Equal(0, (await _server.RunAsync("cluster", "remove-node", "node-3")).ExitCode);
        var transfer = await _server.RunAsync("cluster", "transfer-leadership", "controller", "node-2", "--output", "json");

        Assert.Equal(new AddNodeRequest { NodeId = "node-4", Address = "http://10.0.0.4:7400" }, Assert.Single(_server.Cluster.Requests<AddNodeRequest>()));
        Assert.Equal("node-3", Assert.Single(_server.Cluster.Requests<RemoveNodeRequest>()).NodeId);
        Assert.Equal(new TransferLeadershipRequest { Group = "controller", TargetNodeId = "node-2" }, Assert.Single(_server.Cluster.Requests<TransferLeadershipRequest>()));
        using var json = JsonDocument.Parse(Assert.Single(transfer.Lines));
        Assert.Empty(json.RootElement.EnumerateObject());
    }
}
