using System.Globalization;
using Google.Protobuf;
using Streams.Load.ClusterBench;
using Streams.V1;

namespace Streams.Load.Targets;

/// <summary>Builds the records the write targets send: <c>count</c> records of a given size, all routed to one shard by an explicit hash key inside its range.</summary>
internal static class RecordBatches
{
    /// <summary>One record's data: deterministic filler, so that no target pays for randomness per record.</summary>
    public static ByteString Data(int size, int seed)
    {
        var bytes = new byte[size];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)('a' + ((i + seed) % 26));
        }

        return ByteString.CopyFrom(bytes);
    }

    public static IEnumerable<PutRecordsRequestEntry> For(ShardInfo shard, int count, int recordBytes, int seed)
    {
        var data = Data(recordBytes, seed);
        var hashKey = shard.Start.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            yield return new PutRecordsRequestEntry { Data = data, PartitionKey = string.Create(CultureInfo.InvariantCulture, $"p{seed}-{i}"), ExplicitHashKey = hashKey };
        }
    }
}
