using System.Collections.Immutable;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Streams.Load.Benchmarks;

/// <summary>How the benchmarks measure allocations: BenchmarkDotNet's MemoryDiagnoser in-process with a short job, quietly.</summary>
internal static class AllocationRuns
{
    /// <summary>The configuration every allocation measurement uses.</summary>
    public static IConfig Config { get; } = ManualConfig.CreateEmpty()
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddLogger(NullLogger.Instance)
        .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);

    /// <summary>Bytes allocated per operation of a case, or NaN.</summary>
    /// <param name="report">The case's report.</param>
    public static double PerOperation(BenchmarkReport report) =>
        report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? double.NaN;

    /// <summary>The reports of a run; throws when a case could not run.</summary>
    /// <param name="summary">The run's summary.</param>
    public static ImmutableArray<BenchmarkReport> Reports(BenchmarkDotNet.Reports.Summary summary)
    {
        if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success))
        {
            throw new InvalidOperationException($"BenchmarkDotNet could not run {summary.Title}: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
        }

        return summary.Reports;
    }
}
