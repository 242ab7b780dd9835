using BenchmarkDotNet.Attributes;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Load.Benchmarks;

/// <summary>
/// Appending prebuilt 64 KiB batches to a segment log (durability `never`, so the figure is our
/// code and the page cache, not the disk). One operation appends 16 batches: the Allocated column is
/// the allocation per invocation of 16 batches; `streams-load storage` divides it by <see cref="RecordsPerInvoke"/>.
/// </summary>
[MemoryDiagnoser]
public class SegmentLogAppendBenchmarks : IAsyncDisposable
{
    private const int BatchesPerInvoke = 16;
    private const int BatchBytes = 64 * 1024;

    // The log is emptied once it holds this many batches, so the benchmark never fills the disk.
    private const long MaxBatches = 2048;

    private SegmentLog? _log;
    private string _directory = string.Empty;
    private byte[][] _batches = [];
    private long _next = 1;

    /// <summary>Bytes of data in each record.</summary>
    [Params(100, 1024)]
    public int RecordBytes { get; set; }

    /// <summary>Records in the 16 batches one invocation appends.</summary>
    public static int RecordsPerInvoke(int recordBytes) => BatchesPerInvoke * RecordsPerBatch(recordBytes);

    /// <summary>Opens a fresh log and builds the batches' payload.</summary>
    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("streams-append-bench-").FullName;
        _log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = _directory, Durability = DurabilityPolicy.Never });
        _batches = new byte[BatchesPerInvoke][];
    }

    /// <summary>Appends 16 batches (their index rewritten in place, so no new batch is built).</summary>
    [Benchmark]
    public void Append()
    {
        var log = _log!;
        if (_next > MaxBatches)
        {
            log.TruncateAfter(0);
            _next = 1;
        }

        for (var i = 0; i < BatchesPerInvoke; i++)
        {
            log.Append(BatchFor(_next++, i));
        }
    }

    /// <summary>Closes and deletes the log.</summary>
    [GlobalCleanup]
    public async Task CleanupAsync() => await DisposeAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_log is not null)
        {
            await _log.DisposeAsync();
            _log = null;
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private static int RecordsPerBatch(int recordBytes)
    {
        using var builder = new BatchBuilder();
        return Fill(builder, recordBytes, 1).RecordCount;
    }

    private static BatchBuilder Fill(BatchBuilder builder, int recordBytes, long index)
    {
        builder.Reset(1, index, BatchCodec.None);
        var data = new byte[recordBytes];
        var key = 0;
        while (builder.RecordsLength + recordBytes + 32 < BatchBytes - BatchHeader.Size)
        {
            builder.Add($"key-{key++ % 1000}", null, data, 1_700_000_000_000);
        }

        return builder;
    }

    /// <summary>A batch with the given index: built once per slot, then its index and CRC rewritten.</summary>
    private byte[] BatchFor(long index, int slot)
    {
        var batch = _batches[slot];
        if (batch is null)
        {
            using var builder = new BatchBuilder();
            batch = _batches[slot] = Fill(builder, RecordBytes, index).Build().ToArray();
        }

        (BatchHeader.Read(batch) with { Index = index }).Write(batch);
        BatchHeader.WriteCrc(batch);
        return batch;
    }
}
