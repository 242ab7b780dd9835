using System.Collections.Concurrent;
using System.Text;
using Streams.Client;
using Streams.Client.Consuming;
using Streams.Faults.Checking;

namespace Streams.Faults.Workload;

/// <summary>
/// Members of one consumer group (SDK <see cref="Consumer"/>s) sharing the stream's shards: every
/// record handed to them goes to the history with its lease, and every
/// <see cref="CheckpointEveryRecords"/>-th record of a shard is checkpointed explicitly, the
/// acknowledged checkpoints going to the history with when they were asked for and answered.
/// </summary>
internal sealed class ConsumerWorkload(StreamsClient client, string streamName, string groupName, History history, TimeSpan sessionTimeout)
{
    public const int CheckpointEveryRecords = 25;

    private const string InvalidArgument = "InvalidArgumentException";

    private readonly ConcurrentQueue<string> _refusals = new();

    private readonly ConcurrentDictionary<string, long> _checkpointFailures = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, string> _firstMessages = new(StringComparer.Ordinal);

    /// <summary>Checkpoints refused or failed, by error (a lease lost to another member among them).</summary>
    public IReadOnlyDictionary<string, long> CheckpointFailures => _checkpointFailures;

    /// <summary>Checkpoints of records this group was handed that the cluster refused as invalid.</summary>
    public IReadOnlyCollection<string> Refusals => _refusals;

    /// <summary>The first message of each error in <see cref="CheckpointFailures"/>.</summary>
    public IReadOnlyDictionary<string, string> FirstMessages => _firstMessages;

    /// <summary>Runs member <paramref name="memberId"/> until <paramref name="stop"/> is cancelled (then it stops gracefully).</summary>
    public async Task RunAsync(string memberId, CancellationToken stop)
    {
        var consumer = new Consumer(client, new ConsumerOptions
        {
            StreamName = streamName,
            GroupName = groupName,
            MemberId = memberId,
            SessionTimeout = sessionTimeout,
            // Checkpoints are made here, explicitly, so that each acknowledged one is known.
            CheckpointInterval = TimeSpan.Zero,
            CheckpointEveryRecords = 0,
            IdleDelay = TimeSpan.FromMilliseconds(100),
        });
        var counts = new ConcurrentDictionary<(string, long), int>();
        await using (consumer)
        {
            // A consumer that fails (a lasting error) is started again: the run goes on, the
            // failure is counted.
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await consumer.RunAsync((record, token) => HandleAsync(consumer, record, counts, token), stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
#pragma warning disable CA1031 // Counted and retried: the run is about what the consumers saw, not whether one stopped.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _checkpointFailures.AddOrUpdate("consumer stopped: " + ex.GetType().Name, 1, (_, n) => n + 1);
                    _firstMessages.TryAdd("consumer stopped: " + ex.GetType().Name, ex.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
                }
            }
        }
    }

    private async ValueTask HandleAsync(Consumer consumer, ConsumedRecord record, ConcurrentDictionary<(string, long), int> counts, CancellationToken token)
    {
        if (!RecordId.TryParse(Encoding.ASCII.GetString(record.Data.Span[..Math.Min(record.Data.Length, 64)]), out var id))
        {
            id = new RecordId(-1, -1);
        }

        history.Add(new DeliveredRecord(consumer.MemberId, record.ShardId, record.LeaseEpoch, record.SequenceNumber, id, history.Now));
        var count = counts.AddOrUpdate((record.ShardId, record.LeaseEpoch), 1, (_, n) => n + 1);
        if (count % CheckpointEveryRecords != 0)
        {
            return;
        }

        var started = history.Now;
        try
        {
            await consumer.CheckpointAsync(record, token);
            history.Add(new CommittedCheckpoint(consumer.MemberId, record.ShardId, record.LeaseEpoch, record.SequenceNumber, started, history.Now));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (StreamsException ex)
        {
            var error = ErrorNames.Of(ex);
            _checkpointFailures.AddOrUpdate(error, 1, (_, n) => n + 1);
            _firstMessages.TryAdd(error, ex.Message);
            if (ex.ErrorCode == InvalidArgument)
            {
                // The record came from this shard through this consumer: nothing about it is invalid.
                _refusals.Enqueue($"{consumer.MemberId}: checkpoint of {record.ShardId} #{record.SequenceNumber} (lease {record.LeaseEpoch}) at {history.Now:F1} s refused: {ex.Message}");
            }
        }
    }
}
