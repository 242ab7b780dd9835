namespace Streams.Server.Firehose.Output;

/// <summary>How each record is written into a delivery object.</summary>
public enum RecordFormat
{
    /// <summary>The record's data as it is, followed by the delimiter.</summary>
    Raw,

    /// <summary>
    /// One JSON object per line: sequence_number, partition_key, approximate_arrival_timestamp
    /// (ISO 8601, UTC, milliseconds) and data (base64).
    /// </summary>
    JsonLines,
}
