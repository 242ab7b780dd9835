namespace Streams.Server.Metadata.Firehose;

/// <summary>
/// A delivery worker's figures for one shard, as it last reported them: the counters add up
/// every report since the delivery stream was created; lag and the worker are the latest.
/// </summary>
public sealed record DeliveryShardProgress
{
    /// <summary>A shard nobody reported on yet.</summary>
    public static DeliveryShardProgress None { get; } = new();

    /// <summary>The node whose worker reported last, or empty.</summary>
    public string Worker { get; init; } = "";

    /// <summary>The age of the oldest record not yet delivered, in milliseconds.</summary>
    public long LagMillis { get; init; }

    /// <summary>How many records were read and not yet delivered.</summary>
    public long LagRecords { get; init; }

    /// <summary>Objects written.</summary>
    public long ObjectsDelivered { get; init; }

    /// <summary>Records written to objects.</summary>
    public long RecordsDelivered { get; init; }

    /// <summary>Bytes of objects written (after compression).</summary>
    public long BytesDelivered { get; init; }

    /// <summary>Records written to the error output.</summary>
    public long RecordsFailed { get; init; }

    /// <summary>Uploads that failed (and were retried).</summary>
    public long UploadFailures { get; init; }

    /// <summary>The last failure's message, or empty.</summary>
    public string LastError { get; init; } = "";

    /// <summary>When the last failure happened.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>When the worker reported last.</summary>
    public DateTimeOffset? ReportedAt { get; init; }
}
