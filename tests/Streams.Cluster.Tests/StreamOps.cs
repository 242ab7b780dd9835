using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.V1;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests;

/// <summary>What one node returned for one shard, read from TRIM_HORIZON to its end.</summary>
internal sealed record ShardRead(string ShardId, IReadOnlyList<Record> Records, bool ReachedEnd, IReadOnlyList<ChildShard> Children);

/// <summary>The API calls the tests share: administration with retries, shard maps, reading shards to their end.</summary>
internal static class StreamOps
{
    /// <summary>Errors on which a call can simply be made again (through any node).</summary>
    public static bool IsTransient(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled or StatusCode.ResourceExhausted;

    /// <summary>The Kinesis-style error name of a failed call, or its status code.</summary>
    public static string ErrorName(RpcException ex) => ex.Trailers.GetValue(StreamsErrors.TrailerName) ?? ex.StatusCode.ToString();

    /// <summary>Runs <paramref name="call"/> against running nodes in turn until it succeeds or fails with a lasting error.</summary>
    public static async Task<T> RetryAsync<T>(TestCluster cluster, Random random, string what, Func<NodeProcess, Task<T>> call, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        RpcException? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var node = cluster.RandomRunningNode(random);
            try
            {
                return await call(node);
            }
            catch (RpcException ex) when (IsTransient(ex))
            {
                last = ex;
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"{what} did not succeed within the time allowed; last error: {last?.Status.ToString() ?? "none"}", last);
    }

    /// <summary>Creates a stream (an ambiguous first attempt that did create it counts) and waits until it is ACTIVE with every shard led.</summary>
    public static async Task CreateStreamAsync(TestCluster cluster, NodeProcess via, string streamName, int shardCount, int replicationFactor)
    {
        var request = new CreateStreamRequest { StreamName = streamName, ShardCount = shardCount, ReplicationFactor = replicationFactor };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var attempts = 0;
        while (true)
        {
            attempts++;
            try
            {
                await via.Streams.CreateStreamAsync(request, TestCluster.Call(TimeSpan.FromSeconds(15)));
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists && attempts > 1)
            {
                // An earlier attempt that looked failed did create it.
                break;
            }
            catch (RpcException ex) when (IsTransient(ex) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }

        await WaitForActiveAsync(cluster, via, streamName, shardCount, TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until the stream is ACTIVE with <paramref name="openShards"/> open shards, each with a leader.</summary>
    public static async Task WaitForActiveAsync(TestCluster cluster, NodeProcess via, string streamName, int openShards, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var state = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var node = via.IsRunning ? via : cluster.RandomRunningNode(Random.Shared);
                var summary = (await node.Streams.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, TestCluster.Call())).StreamDescriptionSummary;
                var shards = await ListShardsAsync(node, streamName);
                var open = shards.Where(IsOpen).ToList();
                state = $"status {summary.StreamStatus}, {summary.OpenShardCount} open shard(s), leaders: {string.Join(", ", open.Select(s => $"{s.ShardId}={(s.Leader.Length > 0 ? s.Leader : "none")}"))}";
                if (summary.StreamStatus == StreamStatus.Active && summary.OpenShardCount == openShards && open.Count == openShards && open.All(s => s.Leader.Length > 0))
                {
                    return;
                }
            }
            catch (RpcException ex) when (IsTransient(ex) || ex.StatusCode == StatusCode.NotFound)
            {
                state = ex.Status.ToString();
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Stream '{streamName}' was not ACTIVE with {openShards} led open shards within {timeout.TotalSeconds} s; last seen: {state}.");
    }

    /// <summary>Every shard of the stream, open and closed, from one node.</summary>
    public static async Task<List<Shard>> ListShardsAsync(NodeProcess node, string streamName)
    {
        var shards = new List<Shard>();
        var request = new ListShardsRequest { StreamName = streamName };
        while (true)
        {
            var page = await node.Streams.ListShardsAsync(request, TestCluster.Call());
            shards.AddRange(page.Shards);
            if (page.NextToken.Length == 0)
            {
                return shards;
            }

            request = new ListShardsRequest { NextToken = page.NextToken };
        }
    }

    public static bool IsOpen(Shard shard) => shard.SequenceNumberRange is null || shard.SequenceNumberRange.EndingSequenceNumber.Length == 0;

    /// <summary>The parents of a shard, whichever fields name them.</summary>
    public static IEnumerable<string> ParentsOf(Shard shard) =>
        new[] { shard.ParentShardId, shard.AdjacentParentShardId }.Concat(shard.ParentShardIds).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Reads a shard from TRIM_HORIZON through one node (iterator and every GetRecords at that node)
    /// until its end: the end of a closed shard (no next iterator), or, for an open shard, a read
    /// that returns nothing and is not behind.
    /// </summary>
    public static async Task<ShardRead> ReadShardAsync(NodeProcess node, string streamName, string shardId)
    {
        var iterator = (await node.Streams.GetShardIteratorAsync(
            new GetShardIteratorRequest { StreamName = streamName, ShardId = shardId, ShardIteratorType = ShardIteratorType.TrimHorizon },
            TestCluster.Call())).ShardIterator;
        var records = new List<Record>();
        for (var reads = 0; ; reads++)
        {
            if (reads > 100_000)
            {
                throw new InvalidOperationException($"{node.Id} kept answering GetRecords for {shardId} without an end ({records.Count} records read).");
            }

            var response = await node.Streams.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator }, TestCluster.Call(TimeSpan.FromSeconds(20)));
            records.AddRange(response.Records);
            if (response.NextShardIterator.Length == 0)
            {
                return new ShardRead(shardId, records, true, [.. response.ChildShards]);
            }

            if (response.Records.Count == 0 && response.MillisBehindLatest == 0)
            {
                return new ShardRead(shardId, records, false, []);
            }

            iterator = response.NextShardIterator;
        }
    }

    /// <summary>Orders sequence numbers of one shard: by length, then digit by digit.</summary>
    public static int CompareSequenceNumbers(string left, string right)
    {
        var byLength = left.Length.CompareTo(right.Length);
        return byLength != 0 ? byLength : string.CompareOrdinal(left, right);
    }

    /// <summary>Where a partition key lands: its MD5 digest as a big-endian 128-bit integer.</summary>
    public static UInt128 HashOf(string partitionKey)
    {
        // MD5 is Kinesis' placement function here, not a security measure.
#pragma warning disable CA5351
        var digest = MD5.HashData(Encoding.UTF8.GetBytes(partitionKey));
#pragma warning restore CA5351
        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    public static (UInt128 Start, UInt128 End) RangeOf(Shard shard) =>
        (UInt128.Parse(shard.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture), UInt128.Parse(shard.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture));

    /// <summary>A uniformly random key in [start, end].</summary>
    public static UInt128 RandomIn(Random random, UInt128 start, UInt128 end)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        var width = end - start;
        return width == UInt128.MaxValue ? value : start + (value % (width + 1));
    }

    /// <summary>A record in one line, for messages.</summary>
    public static string Describe(Record record) =>
        $"{record.SequenceNumber} '{record.Data.ToStringUtf8()}' key '{record.PartitionKey}'";
}
