namespace Streams.Client.Consuming;

/// <summary>
/// When a consumer checkpoints on its own: after every <c>N</c> records processed, after an
/// interval with records processed, either one first, or never (manual). Pure: the caller tells
/// how much was processed and how long ago the last checkpoint was.
/// </summary>
/// <param name="everyRecords">Records per checkpoint; 0 turns counting off.</param>
/// <param name="interval">The longest time processed records wait for a checkpoint; zero turns it off.</param>
internal sealed class CheckpointPolicy(int everyRecords, TimeSpan interval)
{
    /// <summary>The policy of <paramref name="options"/>.</summary>
    /// <param name="options">Validated options.</param>
    public static CheckpointPolicy Of(ConsumerOptions options) => new(options.CheckpointEveryRecords, options.CheckpointInterval);

    /// <summary>Only the application checkpoints: no checkpoint after records, after time, or at a graceful stop.</summary>
    public bool IsManual => everyRecords == 0 && interval == TimeSpan.Zero;

    /// <summary>The interval, or zero when time does not trigger checkpoints.</summary>
    public TimeSpan Interval => interval;

    /// <summary>True when a checkpoint is due.</summary>
    /// <param name="processedSinceCheckpoint">Records processed since the last checkpoint.</param>
    /// <param name="sinceLastCheckpoint">Time since the last checkpoint (or since the shard was leased).</param>
    public bool IsDue(long processedSinceCheckpoint, TimeSpan sinceLastCheckpoint) =>
        processedSinceCheckpoint > 0
        && ((everyRecords > 0 && processedSinceCheckpoint >= everyRecords)
            || (interval > TimeSpan.Zero && sinceLastCheckpoint >= interval));
}
