using System.Globalization;

namespace Streams.Client.Producing;

/// <summary>How a <see cref="Producer"/> batches, bounds its memory and retries. Checked by <see cref="Validate"/>.</summary>
public sealed class ProducerOptions
{
    /// <summary>The most records in one batch: the PutRecords limit.</summary>
    public const int MaxRecordsPerBatch = 500;

    /// <summary>The most bytes in one batch: the PutRecords limit of 5 MiB.</summary>
    public const int MaxBytesPerBatch = 5 * 1024 * 1024;

    /// <summary>
    /// The most batches of one shard that can be unacknowledged at once: a shard remembers a
    /// producer's last 8 batches, and a retry must find its batch among them to be answered.
    /// </summary>
    public const int MaxInFlightLimit = 8;

    /// <summary>The stream the producer writes to. Required.</summary>
    public string StreamName { get; init; } = string.Empty;

    /// <summary>Records per batch, at most (500 by default, the PutRecords limit).</summary>
    public int BatchMaxRecords { get; init; } = MaxRecordsPerBatch;

    /// <summary>
    /// Bytes per batch, at most (1 MiB by default; 5 MiB is the PutRecords limit): records as sent,
    /// with their partition and hash keys. A record larger than this goes in a batch of its own.
    /// </summary>
    public int BatchMaxBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// How long a batch waits for more records before it is sent (5 ms by default). Zero sends as
    /// soon as a request slot is free; batches then still grow while the shard's slots are busy.
    /// </summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The memory the producer holds for records waiting or in flight (32 MiB by default); each
    /// record counts as its encoded size plus <see cref="Producer.RecordOverheadBytes"/>. When it is
    /// reached, <see cref="Producer.SendAsync"/> waits until acknowledged records free enough of it.
    /// </summary>
    public long BufferMaxBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>
    /// Batches per shard sent and not yet acknowledged (4 by default, at most 8). With
    /// <see cref="Idempotent"/> off it is always 1, since a retry could otherwise overtake a later batch.
    /// </summary>
    public int MaxInFlightBatchesPerShard { get; init; } = 4;

    /// <summary>
    /// Write each batch once however often it is retried (true by default): batches carry a producer
    /// id and a per-shard sequence the shard checks. Off, a retry after a lost answer may write a
    /// batch twice.
    /// </summary>
    public bool Idempotent { get; init; } = true;

    /// <summary>How batches are sent: Produce streams (the default) or one PutRecords call per batch.</summary>
    public ProducerTransport Transport { get; init; } = ProducerTransport.ProduceStream;

    /// <summary>
    /// How long <see cref="Producer.DisposeAsync"/> waits for the records still buffered or in
    /// flight (30 s by default) before it fails them.
    /// </summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws an <see cref="ArgumentException"/> that names the setting and says what to change when one is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(StreamName))
        {
            throw new ArgumentException("ProducerOptions.StreamName is empty; set it to the stream the producer writes to.", nameof(StreamName));
        }

        Require(BatchMaxRecords is >= 1 and <= MaxRecordsPerBatch, nameof(BatchMaxRecords), $"must be between 1 and {MaxRecordsPerBatch} (the PutRecords limit); it is {Number(BatchMaxRecords)}");
        Require(BatchMaxBytes is >= 1024 and <= MaxBytesPerBatch, nameof(BatchMaxBytes), $"must be between 1,024 and {Number(MaxBytesPerBatch)} bytes (5 MiB, the PutRecords limit); it is {Number(BatchMaxBytes)}");
        Require(Linger >= TimeSpan.Zero && Linger <= TimeSpan.FromMinutes(1), nameof(Linger), $"must be between 0 and 1 minute; it is {Linger}");
        Require(BufferMaxBytes >= BatchMaxBytes, nameof(BufferMaxBytes), $"must be at least BatchMaxBytes ({Number(BatchMaxBytes)}), so that a full batch fits; it is {Number(BufferMaxBytes)}");
        Require(MaxInFlightBatchesPerShard is >= 1 and <= MaxInFlightLimit, nameof(MaxInFlightBatchesPerShard), $"must be between 1 and {MaxInFlightLimit} (a shard answers retries of a producer's last {MaxInFlightLimit} batches only); it is {MaxInFlightBatchesPerShard}");
        Require(Enum.IsDefined(Transport), nameof(Transport), $"must be ProduceStream or PutRecords; it is {Transport}");
        Require(DisposeTimeout >= TimeSpan.Zero && DisposeTimeout <= TimeSpan.FromHours(1), nameof(DisposeTimeout), $"must be between 0 and 1 hour; it is {DisposeTimeout}");
    }

    private static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"ProducerOptions.{name} {problem}.", name);
        }
    }
}
