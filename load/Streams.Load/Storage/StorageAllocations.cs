using BenchmarkDotNet.Running;
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
        var config = AllocationRuns.Config;
        var results = new List<(string, double, double)>();
        foreach (var report in AllocationRuns.Reports(BenchmarkRunner.Run<SegmentLogAppendBenchmarks>(config)))
        {
            var recordBytes = (int)report.BenchmarkCase.Parameters["RecordBytes"];
            var records = SegmentLogAppendBenchmarks.RecordsPerInvoke(recordBytes);
            results.Add(($"append, {recordBytes} B records", AllocationRuns.PerOperation(report) / records, report.ResultStatistics!.Mean / 1000 / records));
        }

        foreach (var report in AllocationRuns.Reports(BenchmarkRunner.Run<BatchCodecBenchmarks>(config)))
        {
            var recordBytes = (int)report.BenchmarkCase.Parameters["RecordBytes"];
            var codec = (Streams.Storage.Batches.BatchCodec)report.BenchmarkCase.Parameters["Codec"];
            using var sample = new BatchCodecBenchmarks { RecordBytes = recordBytes, Codec = codec };
            sample.Setup();
            var records = sample.RecordsPerBatch;
            results.Add(($"{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}, {recordBytes} B records, {codec}", AllocationRuns.PerOperation(report) / records, report.ResultStatistics!.Mean / 1000 / records));
        }

        return results;
    }
}
