using BenchmarkDotNet.Running;
using Streams.Load.Benchmarks;
using Streams.Server.Firehose.Output;

namespace Streams.Load.Firehose;

/// <summary>Allocation per record of a delivery worker's object builder, measured by BenchmarkDotNet's MemoryDiagnoser.</summary>
internal static class FirehoseAllocations
{
    /// <summary>Measures and prints one line per format and compression; returns the exit code.</summary>
    public static int Run()
    {
        Console.Out.WriteLine($"DeliveryObjectBuilder.Append, 1 KiB records, objects of {DeliveryObjectBuilderBenchmarks.RecordsPerObject:N0} (MemoryDiagnoser, in-process short job):");
        foreach (var report in AllocationRuns.Reports(BenchmarkRunner.Run<DeliveryObjectBuilderBenchmarks>(AllocationRuns.Config)))
        {
            var records = (RecordFormat)report.BenchmarkCase.Parameters["Records"];
            var compression = (ObjectCompression)report.BenchmarkCase.Parameters["Compression"];
            var perRecord = AllocationRuns.PerOperation(report) / DeliveryObjectBuilderBenchmarks.RecordsPerObject;
            var nanos = report.ResultStatistics!.Mean / DeliveryObjectBuilderBenchmarks.RecordsPerObject;
            Console.Out.WriteLine($"  {records,-9} {compression,-4}: {perRecord:0.##} B/record allocated, {nanos:0} ns/record");
        }

        return 0;
    }
}
