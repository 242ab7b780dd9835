namespace Streams.Client.Producing;

/// <summary>One record's result in a PutRecords response.</summary>
/// <param name="SequenceNumber">Its sequence number when written, else empty.</param>
/// <param name="ShardId">The shard it was written to, else empty.</param>
/// <param name="ErrorCode">Why it was not written, else empty.</param>
/// <param name="ErrorMessage">The server's message when it was not written.</param>
internal readonly record struct AcknowledgedRecord(string SequenceNumber, string ShardId, string ErrorCode, string ErrorMessage)
{
    /// <summary>Written.</summary>
    public bool Succeeded => ErrorCode.Length == 0;
}
