using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>A record as a test writes it and expects it back.</summary>
public sealed record SampleRecord(string Key, UInt128? HashKey, byte[] Data, long ArrivalTimestampMs, bool KeyAsChars)
{
    public override string ToString() =>
        $"(key \"{Key}\", hash {HashKey?.ToString() ?? "none"}, {Data.Length} B, t {ArrivalTimestampMs}, {(KeyAsChars ? "chars" : "utf8")})";
}

/// <summary>Generators and helpers shared by the batch tests.</summary>
internal static class BatchSamples
{
    // ASCII, two- three- and four-byte UTF-8 (the last a surrogate pair in UTF-16).
    private static readonly string[] _keyPieces = ["a", "Z", "7", "-", " ", "é", "ß", "Ж", "中", "€", "😀", "𝄞"];

    public static Gen<string> Keys =>
        Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Gen.Elements(_keyPieces), n)).Select(string.Concat);

    public static Gen<UInt128?> HashKeys =>
        Gen.Frequency(
            (1, Gen.Constant<UInt128?>(null)),
            (1, ArbMap.Default.GeneratorFor<ulong>().Two().Select(t => (UInt128?)new UInt128(t.Item1, t.Item2))),
            (1, Gen.Elements<UInt128?>(UInt128.Zero, UInt128.MaxValue)));

    /// <summary>0 to 4 KiB, random, repetitive or text-like, so that LZ4 sometimes helps and sometimes does not.</summary>
    public static Gen<byte[]> Data =>
        from length in Gen.Frequency((3, Gen.Choose(0, 64)), (2, Gen.Choose(0, 4096)), (1, Gen.Elements(0, 1, 4096)))
        from kind in Gen.Choose(0, 2)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakeData(length, kind, seed);

    public static Gen<long> Timestamps =>
        Gen.Frequency(
            (8, Gen.Choose(-100_000, 100_000).Select(d => 1_700_000_000_000L + d)),
            (1, Gen.Elements(0L, 1L, -1L, long.MinValue, long.MaxValue)),
            (1, ArbMap.Default.GeneratorFor<long>()));

    public static Gen<SampleRecord> Records =>
        from key in Keys
        from hash in HashKeys
        from data in Data
        from time in Timestamps
        from asChars in ArbMap.Default.GeneratorFor<bool>()
        select new SampleRecord(key, hash, data, time, asChars);

    public static Gen<BatchCodec> Codecs => Gen.Elements(BatchCodec.None, BatchCodec.Lz4);

    public static byte[] MakeData(int length, int kind, int seed)
    {
        var data = new byte[length];
        var random = new Random(seed);
        switch (kind)
        {
            case 0:
                random.NextBytes(data);
                break;
            case 1:
                Array.Fill(data, (byte)random.Next(256));
                break;
            default:
                for (var i = 0; i < length; i++)
                {
                    data[i] = (byte)"{\"event\":\"click\",\"user\":12345,\"page\":\"/home\"}"[(i + seed) % 44];
                }

                break;
        }

        return data;
    }

    public static void Add(BatchBuilder builder, SampleRecord record)
    {
        if (record.KeyAsChars)
        {
            builder.Add(record.Key.AsSpan(), record.HashKey, record.Data, record.ArrivalTimestampMs);
        }
        else
        {
            builder.Add(Encoding.UTF8.GetBytes(record.Key), record.HashKey, record.Data, record.ArrivalTimestampMs);
        }
    }

    public static byte[] Build(IReadOnlyList<SampleRecord> records, BatchCodec codec, long term = 3, long index = 42)
    {
        using var builder = new BatchBuilder(initialCapacityBytes: 128);
        builder.Reset(term, index, codec, producerId: 9, producerEpoch: 2, producerSequence: 100);
        foreach (var record in records)
        {
            Add(builder, record);
        }

        return builder.Build().ToArray();
    }

    /// <summary>The records a batch holds, copied out, with the reader's own checks applied.</summary>
    public static List<SampleRecord> ReadAll(ReadOnlySpan<byte> batch)
    {
        using var reader = new BatchReader();
        var records = reader.Open(batch);
        var read = new List<SampleRecord>();
        foreach (var record in records)
        {
            Assert.Equal(read.Count, record.Position);
            read.Add(new SampleRecord(Encoding.UTF8.GetString(record.PartitionKey), record.ExplicitHashKey, record.Data.ToArray(), record.ArrivalTimestampMs, false));
        }

        return read;
    }

    /// <summary>
    /// A batch around a hand-written record section with a correct CRC, so that only the section
    /// (or the header fields given) can be wrong.
    /// </summary>
    public static byte[] Seal(ReadOnlySpan<byte> storedSection, int recordCount, BatchCodec codec = BatchCodec.None, int? recordsLength = null,
        long firstTimestampMs = 0, long maxTimestampMs = 0, BatchAttributes attributes = BatchAttributes.None)
    {
        var batch = new byte[BatchHeader.Size + storedSection.Length];
        new BatchHeader
        {
            Length = batch.Length,
            FormatVersion = BatchHeader.CurrentFormatVersion,
            Codec = codec,
            Attributes = attributes,
            RecordCount = recordCount,
            Term = 1,
            Index = 7,
            FirstTimestampMs = firstTimestampMs,
            MaxTimestampMs = maxTimestampMs,
            ProducerId = -1,
            ProducerEpoch = -1,
            ProducerSequence = -1,
            RecordsLength = recordsLength ?? storedSection.Length,
        }.Write(batch);
        storedSection.CopyTo(batch.AsSpan(BatchHeader.Size));
        BatchHeader.WriteCrc(batch);
        return batch;
    }
}
