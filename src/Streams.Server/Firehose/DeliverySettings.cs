using Streams.Server.Firehose.Output;
using Streams.V1;
using OutputRecordFormat = Streams.Server.Firehose.Output.RecordFormat;

namespace Streams.Server.Firehose;

/// <summary>How a delivery stream's workers write: the object format, prefixes and buffering limits, from its stored destination.</summary>
/// <param name="DeliveryStreamName">The delivery stream.</param>
/// <param name="Prefix">Put before the date folders of objects.</param>
/// <param name="ErrorOutputPrefix">Put before the error code folder of error objects.</param>
/// <param name="SizeBytes">An object is written once its records' data reaches this size.</param>
/// <param name="Interval">An object is written once its first record was buffered this long.</param>
/// <param name="Format">How records are written.</param>
internal sealed record DeliverySettings(string DeliveryStreamName, string Prefix, string ErrorOutputPrefix, long SizeBytes, TimeSpan Interval, ObjectFormat Format)
{
    /// <summary>The settings of a destination with its defaults filled in (as the controller stores it).</summary>
    /// <param name="deliveryStreamName">The delivery stream.</param>
    /// <param name="destination">The stored destination.</param>
    public static DeliverySettings From(string deliveryStreamName, DeliveryDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var format = new ObjectFormat(
            destination.RecordFormat == Streams.V1.RecordFormat.JsonLines ? OutputRecordFormat.JsonLines : OutputRecordFormat.Raw,
            destination.RecordFormat == Streams.V1.RecordFormat.JsonLines ? "\n"u8.ToArray() : destination.RecordDelimiter.ToByteArray(),
            destination.Compression == Compression.Gzip ? ObjectCompression.Gzip : ObjectCompression.None);
        return new DeliverySettings(
            deliveryStreamName,
            destination.Prefix,
            destination.ErrorOutputPrefix,
            (long)destination.BufferingHints.SizeInMbs * 1024 * 1024,
            TimeSpan.FromSeconds(destination.BufferingHints.IntervalInSeconds),
            format);
    }

    /// <summary>The key of the object holding a buffer's records.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="records">The object.</param>
    public string KeyOf(string shardId, DeliveryObjectBuilder records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return DeliveryObjectKeys.For(Prefix, records.FirstArrival!.Value, DeliveryStreamName, shardId, records.FirstSequenceNumber!, records.LastSequenceNumber!, Format.Compression);
    }

    /// <summary>The key of the error object of a buffer's records that could not be written.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="errors">The error object.</param>
    public string ErrorKeyOf(string shardId, DeliveryObjectBuilder errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return DeliveryObjectKeys.ForErrors(ErrorOutputPrefix, DeliveryBuffer.FramingFailed, errors.FirstArrival!.Value, DeliveryStreamName, shardId, errors.FirstSequenceNumber!, errors.LastSequenceNumber!, Format.Compression);
    }
}
