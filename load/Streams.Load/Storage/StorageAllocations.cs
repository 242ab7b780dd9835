using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Streams.Load.Benchmarks;

namespace Streams.Load.Storage;

/// <summary>
/// Allocations per record measured by BenchmarkDotNet's MemoryDiagnoser (in-process, short job):
/// appending to the segment log, and building and reading batches.
/// </summary>
internal static class StorageAllocations
{
    /// <summary>Runs the benchmarks and returns one line per case: what, and bytes allocated per record.</summary>
    public static IReadOnlyList<(string Case, double BytesPerRecord, double MeanMicrosPerRecord)> Run()
    {
        var config = ManualConfig.CreateEmpty()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(NullLogger.Instance)
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
        var results = new List<(string, double, double)>();
        foreach (var report in Reports(BenchmarkRunner.Run<SegmentLogAppendBenchmarks>(config)))
        {
            var recordBytes = (int)report.BenchmarkCase.Parameters["RecordBytes"];
            var records = SegmentLogAppendBenchmarks.RecordsPerInvoke(recordBytes);
            results.Add(($"append, {recordBytes} B records", PerOperation(report) / records, report.ResultStatistics!.Mean / 1000 / records));
        }

        foreach (var report in Reports(BenchmarkRunner.Run<BatchCodecBenchmarks>(config)))
        {
            var recordBytes = (int)report.BenchmarkCase.Parameters["RecordBytes"];
            var codec = (Streams.Storage.Batches.BatchCodec)report.BenchmarkCase.Parameters["Codec"];
            using var sample = new BatchCodecBenchmarks { RecordBytes = recordBytes, Codec = codec };
            sample.Setup();
            var records = sample.RecordsPerBatch;
            results.Add(($"{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}, {recordBytes} B records, {codec}", PerOperation(report) / records, report.ResultStatistics!.Mean / 1000 / records));
        }

        return results;
    }

    private static double PerOperation(BenchmarkReport report) =>
        report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? double.NaN;

    private static System.Collections.Immutable.ImmutableArray<BenchmarkReport> Reports(BenchmarkDotNet.Reports.Summary summary)
    {
        if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success))
        {
            throw new InvalidOperationException($"BenchmarkDotNet could not run {summary.Title}: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
        }

        return summary.Reports;
    }
}
