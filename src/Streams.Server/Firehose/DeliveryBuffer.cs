using Streams.Server.Firehose.Output;
using Streams.V1;

namespace Streams.Server.Firehose;

/// <summary>
/// The records of one shard read and not yet delivered: the object they will make, and the error
/// object for records that cannot be written as themselves. Says when it is full (size) or due
/// (interval since its first record). Pure: the caller supplies the clock's readings.
/// </summary>
internal sealed class DeliveryBuffer : IDisposable
{
    /// <summary>The error code (and error output folder) of records whose raw data holds the delimiter.</summary>
    public const string FramingFailed = "framing-failed";

    private const string FramingFailedMessage = "The record's data contains the record delimiter (or ends with its beginning), so raw output could not be read back as this record; choose another delimiter or RECORD_FORMAT_JSON_LINES.";

    private readonly long _sizeBytes;
    private readonly TimeSpan _interval;
    private DateTimeOffset _startedAt;

    /// <summary>An empty buffer.</summary>
    /// <param name="settings">The delivery stream's format and limits.</param>
    public DeliveryBuffer(DeliverySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _sizeBytes = settings.SizeBytes;
        _interval = settings.Interval;
        Records = new DeliveryObjectBuilder(settings.Format);
        Errors = DeliveryObjectBuilder.ForErrors(settings.Format.Compression);
    }

    /// <summary>The object of the records that can be written.</summary>
    public DeliveryObjectBuilder Records { get; }

    /// <summary>The error object.</summary>
    public DeliveryObjectBuilder Errors { get; }

    /// <summary>True when nothing was added since the last reset.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Records added since the last reset, in both objects.</summary>
    public int Count => Records.RecordCount + Errors.RecordCount;

    /// <summary>The last record added, or null.</summary>
    public string? LastSequenceNumber { get; private set; }

    /// <summary>The arrival time of the first record added, or null.</summary>
    public DateTimeOffset? OldestArrival { get; private set; }

    /// <summary>True once the records' data reached the buffer size.</summary>
    public bool IsFull => Records.DataBytes + Errors.DataBytes >= _sizeBytes;

    /// <summary>Adds a record (the next of the shard) to the object, or to the error object when it cannot be framed.</summary>
    /// <param name="record">The record.</param>
    /// <param name="now">The worker's clock, which starts the interval at the first record.</param>
    public void Add(Record record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        var data = record.Data.Span;
        var arrival = record.ApproximateArrivalTimestamp?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;
        if (IsEmpty)
        {
            _startedAt = now;
            OldestArrival = arrival;
        }

        if (Records.CanFrame(data))
        {
            Records.Append(record.SequenceNumber, record.PartitionKey, arrival, data);
        }
        else
        {
            Errors.AppendFailed(record.SequenceNumber, record.PartitionKey, arrival, data, FramingFailed, FramingFailedMessage);
        }

        LastSequenceNumber = record.SequenceNumber;
    }

    /// <summary>True when the buffer holds records and its interval has passed.</summary>
    /// <param name="now">The worker's clock.</param>
    public bool IsDue(DateTimeOffset now) => !IsEmpty && now - _startedAt >= _interval;

    /// <summary>How long until <see cref="IsDue"/> (zero when due, the whole interval when empty).</summary>
    /// <param name="now">The worker's clock.</param>
    public TimeSpan UntilDue(DateTimeOffset now) => IsEmpty ? _interval : TimeSpan.FromTicks(Math.Max(0, (_startedAt + _interval - now).Ticks));

    /// <summary>Empties both objects for the next.</summary>
    public void Reset()
    {
        Records.Reset();
        Errors.Reset();
        LastSequenceNumber = null;
        OldestArrival = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Records.Dispose();
        Errors.Dispose();
    }
}
