namespace Streams.Client.Producing;

/// <summary>What a <see cref="ShardQueue"/> needs of the producer's options.</summary>
/// <param name="MaxRecords">Records per batch.</param>
/// <param name="MaxBytes">Encoded bytes per batch (a single larger record still makes a batch).</param>
/// <param name="MaxInFlight">Batches sent and not yet acknowledged, once the producer id is confirmed.</param>
/// <param name="Idempotent">Batches carry a producer id and sequence.</param>
/// <param name="LingerTicks">How long a batch waits for more records, in <see cref="TimeProvider"/> timestamp ticks.</param>
internal readonly record struct BatchingLimits(int MaxRecords, int MaxBytes, int MaxInFlight, bool Idempotent, long LingerTicks)
{
    /// <summary>The limits for <paramref name="options"/>, with linger in ticks of <paramref name="time"/>.</summary>
    public static BatchingLimits From(ProducerOptions options, TimeProvider time) => new(
        options.BatchMaxRecords,
        options.BatchMaxBytes,
        options.Idempotent ? options.MaxInFlightBatchesPerShard : 1,
        options.Idempotent,
        (long)(options.Linger.TotalSeconds * time.TimestampFrequency));
}
