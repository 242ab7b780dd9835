using System.Collections.Concurrent;
using System.CommandLine;
using System.Runtime.ExceptionServices;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Cli;

/// <summary>
/// <c>streams tail STREAM</c>: subscribes to one shard or every open shard at once and prints
/// records as they are committed, until Ctrl-C. When a shard closes it follows the children.
/// </summary>
internal static class TailCommand
{
    // The server ended a subscription without closing the shard (a subscription's time limit,
    // a restart): subscribe again from where it stopped, after this pause.
    private static readonly TimeSpan _resubscribePause = TimeSpan.FromSeconds(1);

    public static Command Create(CliContext cli)
    {
        var stream = Arguments.Stream();
        var shard = new Option<string>("--shard") { HelpName = "SHARD_ID", Description = "Follow only this shard (default: every open shard)." };
        var from = ReadPosition.CreateOption(ReadPosition.Latest);
        var command = new Command("tail", "Print records as they arrive (SubscribeToShard) until Ctrl-C; follows child shards.") { stream, shard, from };
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
            var start = parse.GetValue(from) ?? ReadPosition.Latest;
            List<string> shardIds;
            if (parse.GetValue(shard) is { } one)
            {
                shardIds = [one];
            }
            else
            {
                // From the latest record only open shards matter; from an older position the
                // oldest shards still held (no listed parent) come first, their children follow.
                var all = await Shards.ListAsync(session, name);
                var listed = all.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
                shardIds = [.. all
                    .Where(s => start == ReadPosition.Latest ? Shards.IsOpen(s) : !Shards.Parents(s).Any(listed.Contains))
                    .Select(s => s.ShardId)];
            }

            if (shardIds.Count == 0)
            {
                session.Out.Error($"error: stream {name} has no open shards to follow.");
                return ExitCodes.Failed;
            }

            var tail = new Tail(session, name);
            await tail.RunAsync(shardIds, start);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The subscriptions of one tail: one task per shard, children started once.</summary>
    private sealed class Tail(CliSession session, string stream)
    {
        private readonly ConcurrentDictionary<string, bool> _started = new(StringComparer.Ordinal);
        private Exception? _failure;

        /// <summary>Follows the shards until Ctrl-C (then returns) or a call fails (then throws).</summary>
        public async Task RunAsync(IEnumerable<string> shardIds, ReadPosition position)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(session.Cancellation);
            try
            {
                await Task.WhenAll(shardIds.Select(id => FollowAsync(id, position.ToStartingPosition(), stop)));
            }
            catch (Exception) when (_failure is null && session.Cancellation.IsCancellationRequested)
            {
                // Ctrl-C: the normal end of a tail.
                return;
            }
            catch (Exception) when (_failure is not null)
            {
                // Rethrown below: the first failure, not a sibling's cancellation.
            }

            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }

        private async Task FollowAsync(string shardId, StartingPosition position, CancellationTokenSource stop)
        {
            if (!_started.TryAdd(shardId, true))
            {
                // A merged child is reached from both parents.
                return;
            }

            try
            {
                while (true)
                {
                    var request = new SubscribeToShardRequest { StreamName = stream, ShardId = shardId, StartingPosition = position };
                    List<string> children = [];
                    using (var call = session.Streams.SubscribeToShard(request, new CallOptions { CancellationToken = stop.Token }))
                    {
                        await foreach (var update in call.ResponseStream.ReadAllAsync(stop.Token))
                        {
                            foreach (var record in update.Records)
                            {
                                session.Out.Record(shardId, record);
                            }

                            if (update.ContinuationSequenceNumber.Length > 0)
                            {
                                position = new StartingPosition { Type = ShardIteratorType.AfterSequenceNumber, SequenceNumber = update.ContinuationSequenceNumber };
                            }

                            if (update.ChildShards.Count > 0)
                            {
                                children = [.. update.ChildShards.Select(c => c.ShardId)];
                            }
                        }
                    }

                    if (children.Count > 0)
                    {
                        await Task.WhenAll(children.Select(child => FollowAsync(child, ReadPosition.TrimHorizon.ToStartingPosition(), stop)));
                        return;
                    }

                    await Task.Delay(_resubscribePause, stop.Token);
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested && ex is not OperationCanceledException and not RpcException { StatusCode: StatusCode.Cancelled })
            {
                Interlocked.CompareExchange(ref _failure, ex, null);
                await stop.CancelAsync();
                throw;
            }
        }
    }
}
