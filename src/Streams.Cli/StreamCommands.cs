using System.CommandLine;
using Streams.V1;

namespace Streams.Cli;

/// <summary><c>streams stream ...</c>: create, list, describe, reshard, change retention, delete.</summary>
internal static class StreamCommands
{
    private const int MaxListLimit = 10_000;

    public static Command Create(CliContext cli) => new("stream", "Create, list, describe, reshard and delete streams.")
    {
        CreateStream(cli),
        ListStreams(cli),
        DescribeStream(cli),
        DeleteStream(cli),
        SplitShard(cli),
        MergeShards(cli),
        Scale(cli),
        Retention(cli),
    };

    private static Command CreateStream(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shards = new Option<int>("--shards") { HelpName = "N", Description = "Number of shards, splitting the hash-key space evenly.", Required = true }.AtLeast(1);
        var replication = new Option<int>("--replication-factor") { HelpName = "R", Description = "Replicas per shard (default: the cluster's, 3 or the number of nodes if fewer)." }.AtLeast(1);
        var retention = new Option<int>("--retention-hours") { HelpName = "H", Description = "How long records are kept (default 24)." }.AtLeast(1);
        var command = new Command("create", "Create a stream.") { stream, shards, replication, retention };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new CreateStreamRequest
            {
                StreamName = parse.GetRequiredValue(stream),
                ShardCount = parse.GetValue(shards),
                ReplicationFactor = parse.GetValue(replication),
                RetentionPeriodHours = parse.GetValue(retention),
            };
            var response = await session.Streams.CreateStreamAsync(request, session.Call());
            session.Out.Result(response, $"created stream {request.StreamName} with {request.ShardCount} shard(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListStreams(CliContext cli)
    {
        var limit = new Option<int?>("--limit") { HelpName = "N", Description = "List at most this many streams (default: all of them)." }.AtLeast(1);
        var command = new Command("list", "List the streams, following every page.") { limit };
        cli.SetAction(command, async (session, parse) =>
        {
            var max = parse.GetValue(limit);
            var all = new ListStreamsResponse();
            var request = new ListStreamsRequest();
            while (true)
            {
                request.Limit = max is { } m ? Math.Min(m - all.StreamNames.Count, MaxListLimit) : 0;
                var page = await session.Streams.ListStreamsAsync(request, session.Call());
                all.StreamNames.Add(page.StreamNames);
                all.StreamSummaries.Add(page.StreamSummaries);
                all.HasMoreStreams = page.HasMoreStreams;
                all.NextToken = page.NextToken;
                if (!page.HasMoreStreams || page.StreamNames.Count == 0 || all.StreamNames.Count >= max)
                {
                    break;
                }

                request = page.NextToken.Length > 0
                    ? new ListStreamsRequest { NextToken = page.NextToken }
                    : new ListStreamsRequest { ExclusiveStartStreamName = page.StreamNames[^1] };
            }

            if (max is { } cap && all.StreamNames.Count > cap)
            {
                Truncate(all, cap);
            }

            if (session.Out.IsJson)
            {
                session.Out.Message(all);
            }
            else if (all.StreamSummaries.Count == all.StreamNames.Count && all.StreamNames.Count > 0)
            {
                session.Out.Table(
                    ["NAME", "STATUS", "CREATED"],
                    all.StreamSummaries.Select(s => new[] { s.StreamName, Output.Name(s.StreamStatus), Output.Time(s.StreamCreationTimestamp) }));
            }
            else
            {
                foreach (var name in all.StreamNames)
                {
                    session.Out.Line(name);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Truncate(ListStreamsResponse all, int cap)
    {
        all.HasMoreStreams = true;
        while (all.StreamNames.Count > cap)
        {
            all.StreamNames.RemoveAt(all.StreamNames.Count - 1);
        }

        while (all.StreamSummaries.Count > cap)
        {
            all.StreamSummaries.RemoveAt(all.StreamSummaries.Count - 1);
        }
    }

    private static Command DescribeStream(CliContext cli)
    {
        var stream = Arguments.Stream();
        var command = new Command("describe", "Show a stream's summary and its shards (open and closed).") { stream };
        cli.SetAction(command, async (session, parse) =>
        {
            var name = parse.GetRequiredValue(stream);
            var response = await session.Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, session.Call());
            var shards = await Shards.ListAsync(session, name);
            var summary = response.StreamDescriptionSummary ?? new StreamDescriptionSummary { StreamName = name };
            if (session.Out.IsJson)
            {
                session.Out.JsonObject(json =>
                {
                    Output.WriteMessage(json, "stream_description_summary", summary);
                    Output.WriteMessages(json, "shards", shards);
                });
                return ExitCodes.Ok;
            }

            session.Out.Pairs(
                ("name", summary.StreamName),
                ("status", Output.Name(summary.StreamStatus)),
                ("retention", $"{summary.RetentionPeriodHours} hours"),
                ("shards", $"{summary.ShardCount} ({summary.OpenShardCount} open)"),
                ("replication", Output.Number(summary.ReplicationFactor)),
                ("created", Output.Time(summary.StreamCreationTimestamp)));
            session.Out.Line("");
            session.Out.Table(
                ["SHARD", "HASH KEY RANGE", "SEQUENCE RANGE", "PARENTS", "REPLICAS", "LEADER"],
                shards.Select(s => new[]
                {
                    s.ShardId,
                    s.HashKeyRange is { } hash ? $"{hash.StartingHashKey}-{hash.EndingHashKey}" : "",
                    s.SequenceNumberRange is { } seq ? $"{seq.StartingSequenceNumber}-{seq.EndingSequenceNumber}" : "",
                    Output.List(Shards.Parents(s)),
                    Output.List(s.Replicas),
                    s.Leader,
                }));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DeleteStream(CliContext cli)
    {
        var stream = Arguments.Stream();
        var enforce = new Option<bool>("--enforce-consumer-deletion") { Description = "Delete the stream even when consumer groups read it." };
        var command = new Command("delete", "Delete a stream and all its records.") { stream, enforce };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new DeleteStreamRequest { StreamName = parse.GetRequiredValue(stream), EnforceConsumerDeletion = parse.GetValue(enforce) };
            var response = await session.Streams.DeleteStreamAsync(request, session.Call());
            session.Out.Result(response, $"deleted stream {request.StreamName}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SplitShard(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shard = new Argument<string>("shard-id") { Description = "The open shard to split." };
        var hashKey = new Argument<string>("new-starting-hash-key") { Description = "The first hash key of the second child: a decimal integer inside the shard's range." };
        var command = new Command("split", "Close a shard and open two children splitting its hash-key range.") { stream, shard, hashKey };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new SplitShardRequest
            {
                StreamName = parse.GetRequiredValue(stream),
                ShardToSplit = parse.GetRequiredValue(shard),
                NewStartingHashKey = parse.GetRequiredValue(hashKey),
            };
            var response = await session.Streams.SplitShardAsync(request, session.Call());
            session.Out.Result(response, $"split {request.ShardToSplit} of {request.StreamName} at {request.NewStartingHashKey}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command MergeShards(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shard = new Argument<string>("shard-id") { Description = "One open shard." };
        var adjacent = new Argument<string>("adjacent-shard-id") { Description = "The open shard whose hash-key range touches it." };
        var command = new Command("merge", "Close two adjacent shards and open one child covering both.") { stream, shard, adjacent };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new MergeShardsRequest
            {
                StreamName = parse.GetRequiredValue(stream),
                ShardToMerge = parse.GetRequiredValue(shard),
                AdjacentShardToMerge = parse.GetRequiredValue(adjacent),
            };
            var response = await session.Streams.MergeShardsAsync(request, session.Call());
            session.Out.Result(response, $"merged {request.ShardToMerge} and {request.AdjacentShardToMerge} of {request.StreamName}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Scale(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shards = new Option<int>("--shards") { HelpName = "N", Description = "The number of open shards wanted.", Required = true }.AtLeast(1);
        var command = new Command("scale", "Close the open shards and open N shards splitting the space evenly (UpdateShardCount).") { stream, shards };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new UpdateShardCountRequest
            {
                StreamName = parse.GetRequiredValue(stream),
                TargetShardCount = parse.GetValue(shards),
                ScalingType = ScalingType.UniformScaling,
            };
            var response = await session.Streams.UpdateShardCountAsync(request, session.Call());
            session.Out.Result(response, $"scaled {request.StreamName} from {response.CurrentShardCount} to {response.TargetShardCount} open shard(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Retention(CliContext cli)
    {
        var stream = Arguments.Stream();
        var hours = new Option<int>("--hours") { HelpName = "H", Description = "How long records are kept, in hours.", Required = true }.AtLeast(1);
        var command = new Command("retention", "Raise or lower how long a stream keeps records.") { stream, hours };
        cli.SetAction(command, async (session, parse) =>
        {
            var name = parse.GetRequiredValue(stream);
            var wanted = parse.GetValue(hours);
            var described = await session.Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name }, session.Call());
            var current = described.StreamDescriptionSummary?.RetentionPeriodHours ?? 0;
            if (wanted == current)
            {
                session.Out.Result(new IncreaseStreamRetentionPeriodResponse(), $"retention of {name} is already {current} hours");
            }
            else if (wanted > current)
            {
                var response = await session.Streams.IncreaseStreamRetentionPeriodAsync(
                    new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = wanted }, session.Call());
                session.Out.Result(response, $"raised retention of {name} from {current} to {wanted} hours");
            }
            else
            {
                var response = await session.Streams.DecreaseStreamRetentionPeriodAsync(
                    new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = wanted }, session.Call());
                session.Out.Result(response, $"lowered retention of {name} from {current} to {wanted} hours");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
