using System.CommandLine;
using Streams.V1;

namespace Streams.Cli;

/// <summary><c>streams cluster ...</c>: members and Raft groups, adding and removing nodes, moving leadership.</summary>
internal static class ClusterCommands
{
    public static Command Create(CliContext cli) => new("cluster", "Show and change the cluster's members and Raft group leaders.")
    {
        Status(cli),
        AddNode(cli),
        RemoveNode(cli),
        TransferLeadership(cli),
    };

    private static Command Status(CliContext cli)
    {
        var command = new Command("status", "Show the members and every Raft group (the controller and one per shard) with its leader.");
        cli.SetAction(command, async (session, _) =>
        {
            var cluster = await session.Cluster.DescribeClusterAsync(new DescribeClusterRequest(), session.Call());
            if (session.Out.IsJson)
            {
                session.Out.Message(cluster);
                return ExitCodes.Ok;
            }

            session.Out.Pairs(("controller leader", cluster.ControllerLeader), ("answered by", cluster.RespondingNode));
            session.Out.Line("");
            session.Out.Table(
                ["NODE", "ADDRESS", "ROLE", "CONTROLLER", "REPLICAS", "LEADS"],
                cluster.Members.Select(m => new[]
                {
                    m.NodeId,
                    m.Address,
                    Output.Name(m.Role),
                    m.IsControllerLeader ? "leader" : "",
                    Output.Number(m.ReplicaCount),
                    Output.Number(m.LeaderCount),
                }));
            session.Out.Line("");
            session.Out.Table(
                ["GROUP", "LEADER", "TERM", "VOTERS", "LEARNERS", "COMMIT"],
                cluster.Groups.Select(g => new[]
                {
                    g.Name,
                    g.Leader,
                    Output.Number(g.Term),
                    Output.List(g.Voters),
                    Output.List(g.Learners),
                    Output.Number(g.CommitIndex),
                }));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command AddNode(CliContext cli)
    {
        var nodeId = new Argument<string>("node-id") { Description = "The new node's id (its --node-id)." };
        var address = new Argument<string>("address") { Description = "The new node's gRPC address, such as http://10.0.0.4:7400." };
        var command = new Command("add-node", "Add a node: it joins the controller group and receives shard replicas.") { nodeId, address };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new AddNodeRequest { NodeId = parse.GetRequiredValue(nodeId), Address = parse.GetRequiredValue(address) };
            var response = await session.Cluster.AddNodeAsync(request, session.Call());
            session.Out.Result(response, $"added node {request.NodeId} at {request.Address}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RemoveNode(CliContext cli)
    {
        var nodeId = new Argument<string>("node-id") { Description = "The node to remove." };
        var command = new Command("remove-node", "Remove a node after moving its replicas to the others.") { nodeId };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new RemoveNodeRequest { NodeId = parse.GetRequiredValue(nodeId) };
            var response = await session.Cluster.RemoveNodeAsync(request, session.Call());
            session.Out.Result(response, $"removed node {request.NodeId}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command TransferLeadership(CliContext cli)
    {
        var group = new Argument<string>("group") { Description = "'controller', or '<stream>/<shard id>'." };
        var target = new Argument<string>("target-node-id") { Description = "The node to lead the group." };
        var command = new Command("transfer-leadership", "Ask a Raft group's leader to hand over to another voter.") { group, target };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new TransferLeadershipRequest { Group = parse.GetRequiredValue(group), TargetNodeId = parse.GetRequiredValue(target) };
            var response = await session.Cluster.TransferLeadershipAsync(request, session.Call());
            session.Out.Result(response, $"asked {request.Group} to hand leadership to {request.TargetNodeId}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
