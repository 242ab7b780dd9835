using System.CommandLine;
using Streams.V1;

namespace Streams.Cli;

/// <summary>
/// <c>streams get STREAM</c>: reads one shard, or every shard parents first, with
/// GetShardIterator and GetRecords until caught up or the limit.
/// </summary>
internal static class GetCommand
{
    private const int MaxRecordsPerCall = 10_000;

    // A page with no records while the shard is still behind: pause a little before the next read.
    private static readonly TimeSpan _behindPause = TimeSpan.FromMilliseconds(200);

    public static Command Create(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shard = new Option<string>("--shard") { HelpName = "SHARD_ID", Description = "Read only this shard (default: every shard, parents before children)." };
        var from = ReadPosition.CreateOption(ReadPosition.TrimHorizon);
        var limit = new Option<int?>("--limit") { HelpName = "N", Description = "Stop after this many records (default: read until caught up)." }.AtLeast(1);
        var command = new Command("get", "Read records until caught up; prints 'shard seq key data' lines (data as text, else base64).")
        {
            stream, shard, from, limit,
        };
        command.Validators.Add(result =>
        {
            if (Arguments.Token(result.GetResult(from)) is { } text && ReadPosition.TryParse(text, out var position) && position.NeedsShard && result.GetResult(shard) is null)
            {
                result.AddError("--from at:SEQ and after:SEQ need --shard: sequence numbers belong to one shard.");
            }
        });

        cli.SetAction(command, async (session, parse) =>
        {
            var name = parse.GetRequiredValue(stream);
            var position = parse.GetValue(from) ?? ReadPosition.TrimHorizon;
            List<string> shardIds = parse.GetValue(shard) is { } one
                ? [one]
                : Shards.ParentsFirst(await Shards.ListAsync(session, name)).Select(s => s.ShardId).ToList();
            long remaining = parse.GetValue(limit) ?? long.MaxValue;
            foreach (var shardId in shardIds)
            {
                if (remaining == 0)
                {
                    break;
                }

                remaining -= await ReadShardAsync(session, name, shardId, position, remaining);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Reads one shard until caught up, closed, or <paramref name="limit"/> records; returns how many it printed.</summary>
    private static async Task<long> ReadShardAsync(CliSession session, string stream, string shardId, ReadPosition position, long limit)
    {
        var iterator = (await session.Streams.GetShardIteratorAsync(position.ToIteratorRequest(stream, shardId), session.Call())).ShardIterator;
        long printed = 0;
        while (iterator.Length > 0 && printed < limit)
        {
            var request = new GetRecordsRequest { ShardIterator = iterator, Limit = (int)Math.Min(limit - printed, MaxRecordsPerCall) };
            var page = await session.Streams.GetRecordsAsync(request, session.Call());
            foreach (var record in page.Records.Take((int)Math.Min(limit - printed, int.MaxValue)))
            {
                session.Out.Record(shardId, record);
                printed++;
            }

            if (page.Records.Count == 0)
            {
                if (page.MillisBehindLatest == 0)
                {
                    break;
                }

                await Task.Delay(_behindPause, session.Cancellation);
            }

            // Empty once a closed shard was read to its end.
            iterator = page.NextShardIterator;
        }

        return printed;
    }
}
