namespace Streams.Load.Performance;

/// <summary>Settings of <c>streams-load report</c>.</summary>
internal sealed record PerformanceSettings
{
    /// <summary>Measured time per scenario.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Warm-up per scenario, not counted.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Virtual producers of the first maximum-throughput step (and of the open-loop runs).</summary>
    public int VirtualProducers { get; init; } = 512;

    /// <summary>The most virtual producers the maximum-throughput search tries.</summary>
    public int MaxVirtualProducers { get; init; } = 32_768;

    /// <summary>The open-loop rate of the end-to-end runs, in records per second.</summary>
    public double EndToEndRate { get; init; } = 1_000;

    public bool SkipNats { get; init; }

    /// <summary>Where performance.md goes; the JSON and HTML go to a <c>performance</c> folder beside it.</summary>
    public string OutputDirectory { get; init; } = "docs";

    /// <summary>Where node data, NATS stores and logs go while the report runs.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>The command line, printed in the report so it can be run again.</summary>
    public string Command { get; init; } = "";
}
