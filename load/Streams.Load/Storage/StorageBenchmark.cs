using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Load.Storage;

/// <summary>
/// `streams-load storage`: the disk's sequential write bandwidth (a plain FileStream and one fsync
/// at the end) beside our append throughput under each durability policy, read throughput from
/// the page cache, and allocations per appended record.
/// </summary>
internal static class StorageBenchmark
{
    private const int BatchBytes = 64 * 1024;

    // About 1 MiB of batches waits for each fsync under `always`: 16 batches of 64 KiB in flight.
    private const int DurableWindow = 16;

    public static async Task<int> RunAsync(StorageSettings settings, CancellationToken cancellationToken)
    {
        var root = settings.Directory ?? Path.Combine(Path.GetTempPath(), "streams-storage-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        var started = DateTimeOffset.UtcNow;
        var plainRuns = new List<double>();
        var appends = new Dictionary<(int RecordBytes, DurabilityPolicy Policy), (AppendFigures Median, double Ratio)>();
        var reads = new Dictionary<int, double>();
        try
        {
            foreach (var recordBytes in _recordSizes)
            {
                var batches = BuildBatches(recordBytes, settings.Bytes);
                var recordsPerBatch = BatchHeader.Read(batches[0].Span).RecordCount;
                foreach (var policy in _policies)
                {
                    // Each of our runs is paired with a baseline run just before it: this disk's
                    // speed swings several-fold within a minute, so only paired ratios compare.
                    var runs = new List<AppendFigures>();
                    var ratios = new List<double>();
                    for (var run = 0; run < settings.Runs; run++)
                    {
                        var plainRun = PlainFileStream(root, settings.Bytes, cancellationToken);
                        plainRuns.Add(plainRun);
                        var ours = await AppendAsync(root, policy, batches, recordsPerBatch, cancellationToken);
                        runs.Add(ours);
                        ratios.Add(ours.MegabytesPerSecond / plainRun);
                    }

                    appends[(recordBytes, policy)] = (runs.OrderBy(r => r.MegabytesPerSecond).ElementAt(runs.Count / 2), Median(ratios));
                }

                reads[recordBytes] = await MedianAsync(settings.Runs, () => ReadAsync(root, recordBytes, batches, cancellationToken));
            }
        }
        finally
        {
            if (settings.Directory is null)
            {
                Directory.Delete(root, recursive: true);
            }
        }

        var plain = Median(plainRuns);
        var rows = new List<Row> { new("plain FileStream + 1 fsync: MB/s", plain, null, $"baseline, median of {plainRuns.Count} runs (min {plainRuns.Min():#,0}, max {plainRuns.Max():#,0})") };
        foreach (var recordBytes in _recordSizes)
        {
            foreach (var policy in _policies)
            {
                var (figures, ratio) = appends[(recordBytes, policy)];
                var name = $"{recordBytes} B records, {policy.ToString().ToLowerInvariant()}";
                rows.Add(new Row($"{name}: MB/s", figures.MegabytesPerSecond, ratio, "of plain (median of paired runs; goal: never, interval >= 0.80)"));
                rows.Add(new Row($"{name}: records/s", figures.RecordsPerSecond, null, null));
                if (policy == DurabilityPolicy.Always)
                {
                    rows.Add(new Row($"{name}: fsyncs/s", figures.FsyncsPerSecond, null, $"{figures.BatchesPerFsync:0.#} batches of 64 KiB each"));
                }

                rows.Add(new Row($"{name}: alloc B/record", figures.AllocatedBytesPerRecord, null, "whole process"));
            }

            var slower = appends[(recordBytes, DurabilityPolicy.Interval)].Median.MegabytesPerSecond / appends[(recordBytes, DurabilityPolicy.Always)].Median.MegabytesPerSecond;
            rows.Add(new Row($"{recordBytes} B records: interval/always", slower, null, "x (goal: at most 2)"));
            rows.Add(new Row($"{recordBytes} B records, read (page cache): MB/s", reads[recordBytes], null, null));
        }

        if (settings.Allocations)
        {
            foreach (var (name, bytesPerRecord, micros) in StorageAllocations.Run())
            {
                rows.Add(new Row($"MemoryDiagnoser {name}: B/record", bytesPerRecord, null, $"{micros * 1000:0.#} ns/record"));
            }
        }

        var text = Render(settings, started, rows);
        Console.Out.Write(text);
        if (settings.MarkdownFile is { } markdown)
        {
            await File.WriteAllTextAsync(markdown.FullName, RenderMarkdown(rows), cancellationToken);
        }

        return 0;
    }

    private static readonly int[] _recordSizes = [100, 1024];

    private static readonly DurabilityPolicy[] _policies = [DurabilityPolicy.Never, DurabilityPolicy.Interval, DurabilityPolicy.Always];

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>The disk's sequential write bandwidth: 1 MiB writes, one fsync at the end.</summary>
    private static double PlainFileStream(string root, long bytes, CancellationToken cancellationToken)
    {
        var path = Path.Combine(root, "plain.bin");
        var chunk = new byte[1024 * 1024];
        Random.Shared.NextBytes(chunk);
        var watch = Stopwatch.StartNew();
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (long written = 0; written < bytes; written += chunk.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                stream.Write(chunk);
            }

            stream.Flush(flushToDisk: true);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        File.Delete(path);
        return bytes / 1e6 / seconds;
    }

    /// <summary>Appends every batch, then waits until all are durable (every policy ends with them on disk).</summary>
    private static async Task<AppendFigures> AppendAsync(string root, DurabilityPolicy policy, List<ReadOnlyMemory<byte>> batches, int recordsPerBatch, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "log-" + policy.ToString().ToLowerInvariant());
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        long bytes = 0;
        var inFlight = new Queue<Task>(DurableWindow + 1);
        var log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = directory, Durability = policy }, cancellationToken: cancellationToken);
        long allocated;
        double seconds;
        var fsyncsBefore = log.FsyncCount;
        try
        {
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < batches.Count; i++)
            {
                var result = log.Append(batches[i].Span);
                bytes += batches[i].Length;
                if (policy == DurabilityPolicy.Always)
                {
                    inFlight.Enqueue(log.WaitForDurableAsync(result.Index, cancellationToken).AsTask());
                    if (inFlight.Count >= DurableWindow)
                    {
                        await inFlight.Dequeue();
                    }
                }
            }

            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue();
            }

            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

            // Every policy ends with its data on disk, as the plain FileStream does.
            await log.FlushAsync(cancellationToken);
            seconds = watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await log.DisposeAsync();
        }

        var fsyncs = log.FsyncCount - fsyncsBefore;
        var records = (double)batches.Count * recordsPerBatch;
        return new AppendFigures(
            bytes / 1e6 / seconds,
            records / seconds,
            fsyncs / seconds,
            fsyncs == 0 ? 0 : (double)batches.Count / fsyncs,
            allocated / records);
    }

    private static async Task<double> ReadAsync(string root, int recordBytes, List<ReadOnlyMemory<byte>> batches, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "log-read-" + recordBytes.ToString(CultureInfo.InvariantCulture));
        if (!Directory.Exists(directory))
        {
            await using var writer = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = directory, Durability = DurabilityPolicy.Never }, cancellationToken: cancellationToken);
            foreach (var batch in batches)
            {
                writer.Append(batch.Span);
            }
        }

        await using var log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = directory, Durability = DurabilityPolicy.Never }, cancellationToken: cancellationToken);
        var buffer = new ArrayBufferWriter<byte>(8 * 1024 * 1024);
        long bytes = 0;

        // Once to bring the files into the page cache, then the timed pass.
        for (var pass = 0; pass < 2; pass++)
        {
            bytes = 0;
            var watch = Stopwatch.StartNew();
            var index = log.FirstIndex;
            while (index <= log.LastIndex)
            {
                buffer.ResetWrittenCount();
                var read = log.Read(index, 4 * 1024 * 1024, buffer);
                bytes += read.Bytes;
                index = read.NextIndex;
            }

            if (pass == 1)
            {
                return bytes / 1e6 / watch.Elapsed.TotalSeconds;
            }
        }

        return 0;
    }

    /// <summary>64 KiB batches of records of one size, built before the clock starts.</summary>
    private static List<ReadOnlyMemory<byte>> BuildBatches(int recordBytes, long totalBytes)
    {
        var random = new Random(42);
        var data = new byte[recordBytes];
        var batches = new List<ReadOnlyMemory<byte>>();
        using var builder = new BatchBuilder();
        long bytes = 0;
        for (long index = 1; bytes < totalBytes; index++)
        {
            builder.Reset(1, index, BatchCodec.None);
            var key = 0;
            while (builder.RecordsLength + recordBytes + 32 < BatchBytes - BatchHeader.Size)
            {
                random.NextBytes(data);
                builder.Add($"key-{key++ % 1000}", null, data, 1_700_000_000_000 + index);
            }

            var batch = builder.Build().ToArray();
            batches.Add(batch);
            bytes += batch.Length;
        }

        return batches;
    }

    private static async Task<double> MedianAsync(int runs, Func<Task<double>> measure)
    {
        var values = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            values.Add(await measure());
        }

        return Median(values);
    }

    private static string Render(StorageSettings settings, DateTimeOffset started, List<Row> rows)
    {
        var machine = MachineInfo.Describe();
        var builder = new StringBuilder();
        builder.AppendLine("Streams.Storage benchmark (streams-load storage): segment log appends against the disk's own bandwidth");
        builder.AppendLine(CultureInfo.InvariantCulture, $"machine:   {machine.Cores} logical cores ({machine.Cpu}), {machine.OperatingSystem}, {machine.Runtime}");
        builder.AppendLine(CultureInfo.InvariantCulture, $"date:      {started:yyyy-MM-dd HH:mm:ss}Z, took {(DateTimeOffset.UtcNow - started).TotalSeconds:0} s");
        builder.AppendLine(CultureInfo.InvariantCulture, $"method:    {settings.Bytes / (1024 * 1024)} MiB per measurement in 64 KiB batches (codec none), {settings.Runs} runs each, medians; every run ends with its data fsynced;");
        builder.AppendLine("           each append run follows its own plain FileStream run (1 MiB writes, one fsync), and its ratio is to that run;");
        builder.AppendLine("           always: 16 appends await durability at once (about 1 MiB per fsync); interval: 50 ms; alloc: bytes allocated by the whole process per record;");
        builder.AppendLine("           segments are the default 128 MiB, so each run includes a roll, which fsyncs the sealed segment before the next one begins (recovery relies on it)");
        builder.AppendLine();
        foreach (var row in rows)
        {
            var ratio = row.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : string.Empty;
            builder.AppendLine(CultureInfo.InvariantCulture, $"{row.Figure,-48} {row.Value,14:#,0.##} {ratio,6} {row.Note}");
        }

        return builder.ToString();
    }

    private static string RenderMarkdown(List<Row> rows)
    {
        var builder = new StringBuilder("| figure | value | ratio | note |\n| --- | ---: | ---: | --- |\n");
        foreach (var row in rows)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"| {row.Figure} | {row.Value:#,0.##} | {(row.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : string.Empty)} | {row.Note} |");
        }

        return builder.ToString();
    }

    private sealed record Row(string Figure, double Value, double? Ratio, string? Note);

    private sealed record AppendFigures(double MegabytesPerSecond, double RecordsPerSecond, double FsyncsPerSecond, double BatchesPerFsync, double AllocatedBytesPerRecord);
}
