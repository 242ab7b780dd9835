namespace Streams.Faults.Workload;

/// <summary>How many producers, how fast, how big their records.</summary>
internal sealed record ProducerWorkloadOptions
{
    public int Producers { get; init; } = 3;

    /// <summary>Records per second, per producer.</summary>
    public int RecordsPerSecond { get; init; } = 100;

    public int RecordBytes { get; init; } = 200;

    public int KeysPerProducer { get; init; } = 8;
}
