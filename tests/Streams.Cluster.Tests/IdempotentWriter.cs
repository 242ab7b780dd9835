using System.Globalization;
using Google.Protobuf;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;

namespace Streams.Cluster.Tests;

/// <summary>The idempotent writer the kill and membership tests run beside their faults.</summary>
internal static class IdempotentWriter
{
    /// <summary>
    /// One idempotent producer: batches of 1-20 records to one shard at a time (explicit hash keys
    /// inside its range), each through a node <paramref name="pickNode"/> chooses, retried with the
    /// same producer id and sequence until it is acknowledged, so that it lands once.
    /// </summary>
    public static async Task WriteUntilStoppedAsync(string streamName, Func<Random, NodeProcess> pickNode, List<Shard> shards, int writer, int seed, WriteLedger ledger, CancellationToken stop)
    {
        var random = new Random(seed);
        var producerId = (ulong)random.NextInt64(1, long.MaxValue);
        var sequences = new long[shards.Count];
        var ranges = shards.Select(StreamOps.RangeOf).ToArray();
        while (!stop.IsCancellationRequested)
        {
            var s = random.Next(shards.Count);
            var shard = shards[s];
            var request = new PutRecordsRequest { StreamName = streamName, ProducerId = producerId, ProducerSequence = sequences[s] };
            var count = random.Next(1, 21);
            for (var i = 0; i < count; i++)
            {
                request.Records.Add(new PutRecordsRequestEntry
                {
                    Data = ByteString.CopyFromUtf8($"w{writer}-p{producerId:x}-{shard.ShardId}-b{sequences[s]}-r{i}"),
                    PartitionKey = $"w{writer}-{sequences[s]}-{i}",
                    ExplicitHashKey = StreamOps.RandomIn(random, ranges[s].Start, ranges[s].End).ToString(CultureInfo.InvariantCulture),
                });
            }

            var payloads = request.Records.Select(r => r.Data.ToStringUtf8()).ToList();
            var acknowledged = false;
            while (!acknowledged && !stop.IsCancellationRequested)
            {
                var node = pickNode(random);
                ledger.Sent(payloads);
                try
                {
                    var response = await node.Streams.PutRecordsAsync(request, TestCluster.Call());
                    if (response.FailedRecordCount == 0 && response.Records.Count == count)
                    {
                        acknowledged = true;
                        for (var i = 0; i < count; i++)
                        {
                            var result = response.Records[i];
                            if (result.ShardId != shard.ShardId)
                            {
                                ledger.Problem($"writer {writer}: a record with an explicit hash key inside {shard.ShardId} was acknowledged in {result.ShardId}");
                            }

                            ledger.Ack(new AckedRecord(result.ShardId, result.SequenceNumber, payloads[i], request.Records[i].PartitionKey, writer, ledger.Now, node.Id));
                        }

                        ledger.BatchAcked();
                        sequences[s]++;
                    }
                    else if (response.Records.Count != count)
                    {
                        ledger.Problem($"writer {writer}: PutRecords of {count} records through {node.Id} answered {response.Records.Count} results");
                    }
                    else
                    {
                        foreach (var failure in response.Records.Where(r => r.ErrorCode.Length > 0).GroupBy(r => r.ErrorCode))
                        {
                            ledger.Failed($"record {failure.Key}", failure.Count());
                        }

                        var written = response.Records.Count(r => r.ErrorCode.Length == 0);
                        if (written > 0)
                        {
                            ledger.Problem($"writer {writer}: an idempotent batch to one shard was answered in part ({written} of {count} written) through {node.Id}: {response.Records.First(r => r.ErrorCode.Length > 0).ErrorMessage}");
                        }
                    }
                }
                catch (RpcException ex) when (ex.Trailers.GetValue(StreamsErrors.TrailerName) == StreamsErrors.OutOfOrderSequence)
                {
                    // A retry of a batch the shard must still remember, refused: the producer's
                    // state was lost, is wrong or did not move with the replicas. Go on as a new
                    // producer so that the test goes on.
                    ledger.Problem($"writer {writer}: producer {producerId} batch {sequences[s]} to {shard.ShardId} through {node.Id} refused: {ex.Status.Detail}");
                    producerId = (ulong)random.NextInt64(1, long.MaxValue);
                    Array.Clear(sequences);
                    break;
                }
                catch (RpcException ex)
                {
                    ledger.Failed(StreamOps.ErrorName(ex));
                    if (!StreamOps.IsTransient(ex))
                    {
                        ledger.Problem($"writer {writer}: PutRecords through {node.Id} failed with a lasting error: {ex.Status}");
                    }
                }

                if (!acknowledged)
                {
                    await Task.Delay(random.Next(20, 60), CancellationToken.None);
                }
            }
        }
    }
}
