using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Streams.Storage.Batches;

namespace Streams.Load.Benchmarks;

/// <summary>
/// Encoding and decoding of one 64 KiB batch (header included, before compression) of records of
/// <see cref="RecordBytes"/> bytes of JSON-like data, with codec None and LZ4. One operation is
/// one whole batch; divide the Allocated column by the records per batch (printed at setup:
/// about 560 of 100 B, about 62 of 1 KiB) for the allocation per record.
/// </summary>
[MemoryDiagnoser]
public class BatchCodecBenchmarks : IDisposable
{
    private const int BatchBytes = 64 * 1024;
    private const long FirstArrivalMs = 1_700_000_000_000;

    private BatchBuilder? _builder;
    private BatchReader? _reader;
    private byte[][] _keys = [];
    private byte[][] _data = [];
    private byte[] _batch = [];

    /// <summary>Bytes of data in each record.</summary>
    [Params(100, 1024)]
    public int RecordBytes { get; set; }

    /// <summary>How the record section is compressed.</summary>
    [Params(BatchCodec.None, BatchCodec.Lz4)]
    public BatchCodec Codec { get; set; }

    /// <summary>Records that fill one batch of <see cref="BatchBytes"/>.</summary>
    public int RecordsPerBatch => _data.Length;

    /// <summary>Makes the records (varied, so that LZ4 compresses them as it would real events) and one built batch to read.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _builder = new BatchBuilder(BatchBytes * 2);
        _reader = new BatchReader();
        var random = new Random(42);
        var keys = new List<byte[]>();
        var data = new List<byte[]>();
        var recordsLength = 0;
        while (true)
        {
            var key = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"device-{random.Next(100_000):D6}"));
            var size = RecordSection.MeasureRecord(key.Length, hasExplicitHashKey: false, RecordBytes, data.Count);
            if (BatchHeader.Size + recordsLength + size > BatchBytes)
            {
                break;
            }

            keys.Add(key);
            data.Add(MakeEvent(random, RecordBytes));
            recordsLength += size;
        }

        _keys = [.. keys];
        _data = [.. data];
        _batch = BuildBatch().ToArray();
        var header = BatchHeader.Read(_batch);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"// {RecordsPerBatch} records of {RecordBytes} B per batch; {header.RecordsLength + BatchHeader.Size} B before compression, {header.Length} B stored as {header.Codec}"));
    }

    /// <summary>Returns the builder's and reader's buffers to the pool.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the builder and the reader.</summary>
    /// <param name="disposing">False from a finalizer (there is none).</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _builder?.Dispose();
            _reader?.Dispose();
            _builder = null;
            _reader = null;
        }
    }

    /// <summary>Reset, add every record, build (and compress with LZ4).</summary>
    [Benchmark]
    public int Build() => BuildBatch().Length;

    /// <summary>Validate (CRC-32C), decompress with LZ4, check and enumerate every record.</summary>
    [Benchmark]
    public long Read()
    {
        long bytes = 0;
        foreach (var record in _reader!.Open(_batch))
        {
            bytes += record.Data.Length + record.PartitionKey.Length;
        }

        return bytes;
    }

    private static byte[] MakeEvent(Random random, int length)
    {
        var text = new StringBuilder(length + 64);
        while (text.Length < length)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"user\":{random.Next(1_000_000)},\"action\":\"{(random.Next(3) == 0 ? "view" : "click")}\",\"ms\":{random.Next(5_000)}}}");
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    private ReadOnlyMemory<byte> BuildBatch()
    {
        var builder = _builder!;
        builder.Reset(term: 1, index: 1, Codec);
        var keys = _keys;
        var data = _data;
        for (var i = 0; i < data.Length; i++)
        {
            builder.Add(keys[i], null, data[i], FirstArrivalMs + i);
        }

        return builder.Build();
    }
}
