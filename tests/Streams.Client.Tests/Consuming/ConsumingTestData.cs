using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Streams.Client.Consuming;
using Streams.V1;

namespace Streams.Client.Tests.Consuming;

/// <summary>A record the tests wrote: its key, payload, and where it landed.</summary>
internal sealed record WrittenRecord(string PartitionKey, string Data, string ShardId, string SequenceNumber);

/// <summary>A record a consumer's handler saw.</summary>
internal sealed record ProcessedRecord(string Member, string ShardId, string SequenceNumber, string PartitionKey, string Data);

/// <summary>Every record the handlers of a test saw, in the order they saw them.</summary>
internal sealed class ProcessedLog
{
    private readonly ConcurrentQueue<ProcessedRecord> _entries = new();

    public int Count => _entries.Count;

    public IReadOnlyList<ProcessedRecord> Entries => [.. _entries];

    public void Add(string member, ConsumedRecord record) =>
        _entries.Enqueue(new ProcessedRecord(member, record.ShardId, record.SequenceNumber, record.PartitionKey, Encoding.UTF8.GetString(record.Data.Span)));

    public int CountOf(string member) => _entries.Count(e => e.Member == member);
}

/// <summary>Writing records and waiting for conditions, for the consumer tests.</summary>
internal static class ConsumingTestData
{
    /// <summary>Writes <paramref name="count"/> records with payloads <c>prefix-i</c>, in order, 100 per PutRecords.</summary>
    public static async Task<List<WrittenRecord>> WriteAsync(StreamsClient client, string stream, int count, string prefix, Func<int, string>? partitionKey = null, string? explicitHashKey = null)
    {
        var written = new List<WrittenRecord>();
        for (var start = 0; start < count; start += 100)
        {
            var request = new PutRecordsRequest { StreamName = stream };
            var end = Math.Min(count, start + 100);
            for (var i = start; i < end; i++)
            {
                var entry = new PutRecordsRequestEntry
                {
                    PartitionKey = partitionKey?.Invoke(i) ?? $"key-{i.ToString(CultureInfo.InvariantCulture)}",
                    Data = ByteString.CopyFromUtf8($"{prefix}-{i.ToString(CultureInfo.InvariantCulture)}"),
                };
                if (explicitHashKey is not null)
                {
                    entry.ExplicitHashKey = explicitHashKey;
                }

                request.Records.Add(entry);
            }

            var response = await client.PutRecordsAsync(request);
            Assert.Equal(0, response.FailedRecordCount);
            for (var i = 0; i < response.Records.Count; i++)
            {
                var entry = request.Records[i];
                written.Add(new WrittenRecord(entry.PartitionKey, entry.Data.ToStringUtf8(), response.Records[i].ShardId, response.Records[i].SequenceNumber));
            }
        }

        return written;
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until true; fails with <paramref name="describe"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Not within {timeout.TotalSeconds} s: {describe()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The group's checkpoint of <paramref name="shardId"/> (empty when none).</summary>
    public static async Task<ShardCheckpoint> CheckpointOfAsync(StreamsClient client, string stream, string group, string shardId)
    {
        var checkpoints = await client.GetCheckpointsAsync(new GetCheckpointsRequest { StreamName = stream, GroupName = group });
        return checkpoints.Checkpoints.Single(c => c.ShardId == shardId);
    }

    /// <summary>Options for a test consumer: short delays, as given otherwise.</summary>
    public static ConsumerOptions Options(string stream, string group, string member, int everyRecords = 0, TimeSpan? interval = null, TimeSpan? session = null, int maxRecords = 1000) => new()
    {
        StreamName = stream,
        GroupName = group,
        MemberId = member,
        SessionTimeout = session ?? TimeSpan.FromSeconds(2),
        IdleDelay = TimeSpan.FromMilliseconds(20),
        CheckpointEveryRecords = everyRecords,
        CheckpointInterval = interval ?? TimeSpan.FromSeconds(5),
        MaxRecordsPerRead = maxRecords,
        ShutdownTimeout = TimeSpan.FromSeconds(5),
    };
}
