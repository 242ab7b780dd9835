namespace Streams.Server.Firehose;

/// <summary>What a shard delivery did since it last reported.</summary>
/// <param name="Objects">Objects written.</param>
/// <param name="Records">Records written to objects.</param>
/// <param name="Bytes">Bytes of objects written.</param>
/// <param name="RecordsFailed">Records written to the error output.</param>
/// <param name="UploadFailures">Uploads that failed and were retried.</param>
internal readonly record struct DeliveryCounters(long Objects, long Records, long Bytes, long RecordsFailed, long UploadFailures)
{
    /// <summary>The sum of two.</summary>
    /// <param name="left">One.</param>
    /// <param name="right">The other.</param>
    public static DeliveryCounters operator +(DeliveryCounters left, DeliveryCounters right) =>
        new(left.Objects + right.Objects, left.Records + right.Records, left.Bytes + right.Bytes, left.RecordsFailed + right.RecordsFailed, left.UploadFailures + right.UploadFailures);

    /// <summary>The sum of two.</summary>
    /// <param name="left">One.</param>
    /// <param name="right">The other.</param>
    public static DeliveryCounters Add(DeliveryCounters left, DeliveryCounters right) => left + right;
}
