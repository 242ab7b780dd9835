using System.Text;
using Streams.Raft.Membership;
using Streams.Raft.Storage;
using Streams.Server.Shards.Log;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>Entries as a shard's Raft group makes them: record batches (with placeholder or real positions), no-ops, configuration changes.</summary>
internal static class ShardLogTestEntries
{
    /// <summary>A batch of records built by BatchBuilder, with the header's term and index as given (0, 0: placeholders).</summary>
    public static byte[] RecordBatch(long headerTerm, long headerIndex, int records, long arrivalMs, Random random, BatchCodec codec = BatchCodec.None)
    {
        using var builder = new BatchBuilder(1024);
        builder.Reset(headerTerm, headerIndex, codec, producerId: random.Next(2) == 0 ? -1 : random.Next(1, 100));
        for (var i = 0; i < records; i++)
        {
            var data = new byte[random.Next(4) == 0 ? random.Next(200, 700) : random.Next(0, 60)];
            random.NextBytes(data);
            if (codec == BatchCodec.Lz4)
            {
                // Compressible, so that LZ4 is actually used.
                data.AsSpan(data.Length / 2).Clear();
            }

            builder.Add(Encoding.UTF8.GetBytes($"key-{random.Next(10)}"), random.Next(3) == 0 ? (UInt128)random.NextInt64() : null, data, arrivalMs + random.Next(0, 5));
        }

        return builder.Build().ToArray();
    }

    /// <summary>An application's control batch: its payload starts with <paramref name="kind"/>.</summary>
    public static byte[] ControlBatch(byte kind, long headerTerm, long headerIndex, ReadOnlySpan<byte> rest, BatchCodec codec = BatchCodec.None)
    {
        using var builder = new BatchBuilder(1024);
        builder.Reset(headerTerm, headerIndex, codec, attributes: BatchAttributes.Control);
        builder.AddControlPayload([kind]);
        builder.AddControlPayload(rest);
        return builder.Build().ToArray();
    }

    /// <summary>A normal entry carrying a batch of records whose header has placeholders.</summary>
    public static Entry Records(long term, long index, Random? random = null, long arrivalMs = 1_700_000_000_000) =>
        new(term, index, RecordBatch(0, 0, 2, arrivalMs, random ?? new Random((int)index)));

    /// <summary>A new leader's no-op.</summary>
    public static Entry NoOp(long term, long index) => new(term, index, ReadOnlyMemory<byte>.Empty);

    /// <summary>A configuration entry with opaque bytes.</summary>
    public static Entry Config(long term, long index, Random? random = null)
    {
        random ??= new Random((int)index);
        var data = new byte[random.Next(1, 80)];
        random.NextBytes(data);
        return new Entry(term, index, data, EntryType.Config);
    }

    /// <summary>
    /// What the log gives back for <paramref name="entry"/>: the same, except that a batch's
    /// header carries the entry's term and index, with its CRC.
    /// </summary>
    public static Entry Stored(Entry entry)
    {
        if (entry.Type != EntryType.Normal || entry.Data.IsEmpty)
        {
            return entry;
        }

        var batch = entry.Data.ToArray();
        (BatchHeader.Read(batch) with { Term = entry.Term, Index = entry.Index }).Write(batch);
        BatchHeader.WriteCrc(batch);
        return new Entry(entry.Term, entry.Index, batch);
    }

    public static Snapshot Snapshot(long index, long term, string data = "state", ConfState? confState = null) =>
        new(new SnapshotMetadata(index, term, confState ?? new ConfState([1, 2, 3])), Encoding.UTF8.GetBytes(data));

    /// <summary>Small segments that roll after a few entries or 10 minutes; retention of 1 hour.</summary>
    public static ShardRaftLogOptions Options(string directory, DurabilityPolicy durability = DurabilityPolicy.Never, long segmentSizeBytes = 4096) => new()
    {
        Directory = directory,
        SegmentSizeBytes = segmentSizeBytes,
        Durability = durability,
        SegmentMaxAge = TimeSpan.FromMinutes(10),
        Retention = TimeSpan.FromHours(1),
    };
}
