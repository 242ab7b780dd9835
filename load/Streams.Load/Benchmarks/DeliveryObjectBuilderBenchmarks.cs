using BenchmarkDotNet.Attributes;
using Streams.Server.Firehose.Output;

namespace Streams.Load.Benchmarks;

/// <summary>
/// A delivery worker's hot path: appending records of 1 KiB to an object (raw or JSON lines,
/// gzip or not). One operation is one object of <see cref="RecordsPerObject"/> records from an
/// empty builder, so the Allocated column divided by that is the allocation per record,
/// including the per-object cost (a new gzip stream) spread over its records.
/// </summary>
[MemoryDiagnoser]
public class DeliveryObjectBuilderBenchmarks : IDisposable
{
    /// <summary>Records per object.</summary>
    public const int RecordsPerObject = 1_000;

    private readonly byte[] _data = new byte[1024];
    private readonly DateTimeOffset _arrival = new(2026, 11, 21, 18, 53, 26, 123, TimeSpan.Zero);
    private DeliveryObjectBuilder? _builder;

    /// <summary>Raw with a newline, or JSON lines.</summary>
    [Params(RecordFormat.Raw, RecordFormat.JsonLines)]
    public RecordFormat Records { get; set; }

    /// <summary>Gzip or not.</summary>
    [Params(ObjectCompression.None, ObjectCompression.Gzip)]
    public ObjectCompression Compression { get; set; }

    /// <summary>Makes the builder and printable data without newlines.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < _data.Length; i++)
        {
            _data[i] = (byte)random.Next(32, 127);
        }

        _builder = new DeliveryObjectBuilder(new ObjectFormat(Records, "\n"u8.ToArray(), Compression));
    }

    /// <summary>One object: reset, then <see cref="RecordsPerObject"/> appends.</summary>
    [Benchmark]
    public int AppendObject()
    {
        var builder = _builder!;
        builder.Reset();
        for (var i = 0; i < RecordsPerObject; i++)
        {
            builder.Append("00000000000000000042000000", "partition-key", _arrival, _data);
        }

        return builder.RecordCount;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _builder?.Dispose();
        GC.SuppressFinalize(this);
    }
}
