using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Streams.Client.Routing;
using Streams.V1;

namespace Streams.Load.ClusterBench;

/// <summary>
/// Partition keys sorted by the shard they hash to (MD5, as the server routes them), and record
/// data: slices of one block of random bytes (incompressible, never copied), or small records
/// stamped with their send time.
/// </summary>
internal sealed class RecordSource
{
    private const int KeysPerShard = 4096;
    private const int PoolBytes = 4 * 1024 * 1024;

    /// <summary>What a stamped record starts with: "SLB1".</summary>
    private const uint StampMagic = 0x534C_4231;

    /// <summary>Magic, tag, send timestamp.</summary>
    public const int StampBytes = 16;

    private readonly string[][] _byShard;
    private readonly string[] _all;
    private readonly byte[] _pool = new byte[PoolBytes];

    public RecordSource(IReadOnlyList<ShardInfo> shards)
    {
        var byShard = shards.Select(_ => new List<string>(KeysPerShard)).ToArray();
        var all = new List<string>(KeysPerShard * shards.Count);
        for (var n = 0L; byShard.Any(k => k.Count < KeysPerShard); n++)
        {
            var key = "key-" + n.ToString("x", CultureInfo.InvariantCulture);
            var hash = HashKey.FromPartitionKey(key);
            var shard = shards.FirstOrDefault(s => s.Start <= hash && hash <= s.End)
                ?? throw new InvalidOperationException($"Hash key {hash} of partition key {key} is in no shard: the shards do not cover the hash-key space.");
            if (byShard[shard.Index].Count < KeysPerShard)
            {
                byShard[shard.Index].Add(key);
                all.Add(key);
            }
        }

        _byShard = [.. byShard.Select(k => k.ToArray())];
        _all = [.. all];
        Random.Shared.NextBytes(_pool);
    }

    public int ShardCount => _byShard.Length;

    /// <summary>A partition key of any shard (all shards alike often).</summary>
    public string AnyKey(Random random) => _all[random.Next(_all.Length)];

    /// <summary>A partition key of the shard at <paramref name="shard"/>.</summary>
    public string KeyOf(int shard, Random random) => _byShard[shard][random.Next(_byShard[shard].Length)];

    /// <summary><paramref name="size"/> random bytes, a view of the pool.</summary>
    public ByteString Data(int size, Random random) =>
        UnsafeByteOperations.UnsafeWrap(_pool.AsMemory(random.Next(PoolBytes - size), size));

    /// <summary><paramref name="size"/> random bytes as memory, a view of the pool (for the SDK's producer, which copies them).</summary>
    public ReadOnlyMemory<byte> Bytes(int size, Random random) => _pool.AsMemory(random.Next(PoolBytes - size), size);

    /// <summary>
    /// A PutRecords request of <paramref name="count"/> records: keys of every shard, or all of one
    /// shard when <paramref name="shard"/> is set. Built once, sent again and again.
    /// </summary>
    public PutRecordsRequest Batch(string stream, int count, int recordBytes, int? shard, Random random)
    {
        var request = new PutRecordsRequest { StreamName = stream };
        for (var i = 0; i < count; i++)
        {
            request.Records.Add(new PutRecordsRequestEntry
            {
                PartitionKey = shard is { } s ? KeyOf(s, random) : AnyKey(random),
                Data = Data(recordBytes, random),
            });
        }

        return request;
    }

    /// <summary>A record of <paramref name="size"/> bytes (at least <see cref="StampBytes"/>) carrying a tag and a <see cref="Stopwatch"/> timestamp.</summary>
    public static ByteString Stamped(int size, int tag, long timestamp)
    {
        var data = new byte[Math.Max(size, StampBytes)];
        BinaryPrimitives.WriteUInt32BigEndian(data, StampMagic);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), tag);
        BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(8), timestamp);
        return UnsafeByteOperations.UnsafeWrap(data);
    }

    /// <summary>Reads back what <see cref="Stamped"/> wrote; false for any other record.</summary>
    public static bool TryReadStamp(ByteString data, out int tag, out long timestamp)
    {
        var span = data.Span;
        if (span.Length < StampBytes || BinaryPrimitives.ReadUInt32BigEndian(span) != StampMagic)
        {
            tag = 0;
            timestamp = 0;
            return false;
        }

        tag = BinaryPrimitives.ReadInt32BigEndian(span[4..]);
        timestamp = BinaryPrimitives.ReadInt64BigEndian(span[8..]);
        return true;
    }
}
