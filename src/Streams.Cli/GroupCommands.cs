using System.CommandLine;
using Streams.V1;

namespace Streams.Cli;

/// <summary><c>streams group ...</c>: a consumer group's members, leases and checkpoints, and deleting a group.</summary>
internal static class GroupCommands
{
    public static Command Create(CliContext cli) => new("group", "Show and delete consumer groups (their leases and checkpoints live in the cluster).")
    {
        Describe(cli),
        Delete(cli),
    };

    private static Command Describe(CliContext cli)
    {
        var stream = new Argument<string>("stream") { Description = "The stream the group reads." };
        var group = new Argument<string>("group") { Description = "The group (the consuming application's name)." };
        var command = new Command("describe", "Show the group's live members and, per shard, its checkpoint and lease.") { stream, group };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new GetCheckpointsRequest { StreamName = parse.GetRequiredValue(stream), GroupName = parse.GetRequiredValue(group) };
            var response = await session.Consumers.GetCheckpointsAsync(request, session.Call());
            if (session.Out.IsJson)
            {
                session.Out.Message(response);
                return ExitCodes.Ok;
            }

            session.Out.Pairs(
                ("group", request.GroupName),
                ("stream", request.StreamName),
                ("starts at", Output.Name(response.InitialPosition)),
                ("generation", Output.Number(response.Generation)));
            session.Out.Line("");
            session.Out.Table(
                ["MEMBER", "LEASES", "EXPIRES"],
                response.Members.Select(m => new[] { m.MemberId, Output.Number(m.LeaseCount), Output.Time(m.ExpiresAt) }));
            session.Out.Line("");
            session.Out.Table(
                ["SHARD", "CHECKPOINT", "OWNER", "EPOCH"],
                response.Checkpoints.Select(c => new[]
                {
                    c.ShardId,
                    c.ShardEnd ? "SHARD_END" : c.SequenceNumber.Length > 0 ? c.SequenceNumber : "-",
                    c.Owner.Length > 0 ? c.Owner : "-",
                    c.Owner.Length > 0 ? Output.Number(c.LeaseEpoch) : "-",
                }));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete(CliContext cli)
    {
        var stream = new Argument<string>("stream") { Description = "The stream the group reads." };
        var group = new Argument<string>("group") { Description = "The group to forget." };
        var command = new Command("delete", "Forget a group and its checkpoints; refused while a member is alive.") { stream, group };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new DeleteGroupRequest { StreamName = parse.GetRequiredValue(stream), GroupName = parse.GetRequiredValue(group) };
            var response = await session.Consumers.DeleteGroupAsync(request, session.Call());
            session.Out.Result(response, $"deleted group {request.GroupName} of {request.StreamName}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
