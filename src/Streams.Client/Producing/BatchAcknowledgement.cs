namespace Streams.Client.Producing;

/// <summary>
/// A PutRecords response, or a Produce response, read by <see cref="BatchAcknowledgementMarshaller"/>
/// without a message object per record: one string per written record (its sequence number), shard
/// ids shared.
/// </summary>
internal sealed class BatchAcknowledgement
{
    private readonly List<AcknowledgedRecord> _records;

    /// <summary>Creates a response of <paramref name="records"/>.</summary>
    public BatchAcknowledgement(List<AcknowledgedRecord> records, int failedRecordCount, ulong batchId = 0, string errorCode = "", string errorMessage = "")
    {
        _records = records;
        FailedRecordCount = failedRecordCount;
        BatchId = batchId;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>Records not written.</summary>
    public int FailedRecordCount { get; }

    /// <summary>Produce: the batch answered.</summary>
    public ulong BatchId { get; }

    /// <summary>Produce: why the whole batch was refused (records is then empty), else empty.</summary>
    public string ErrorCode { get; }

    /// <summary>Produce: the server's message when the whole batch was refused.</summary>
    public string ErrorMessage { get; }

    /// <summary>Results, one per record sent, in order.</summary>
    public int Count => _records.Count;

    /// <summary>Record <paramref name="index"/>'s result.</summary>
    public AcknowledgedRecord this[int index] => _records[index];
}
