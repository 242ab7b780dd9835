namespace Streams.Server.Firehose.Output;

/// <summary>The parts of a delivery object's key (see <see cref="DeliveryObjectKeys"/>).</summary>
/// <param name="Prefix">Everything before the date folders, with its trailing "/" (empty when none); for an error object it ends with the error code's folder.</param>
/// <param name="Hour">The UTC hour of the object's first record.</param>
/// <param name="DeliveryName">The delivery stream's name.</param>
/// <param name="ShardId">The source shard.</param>
/// <param name="FirstSequenceNumber">The object's first record.</param>
/// <param name="LastSequenceNumber">The object's last record.</param>
/// <param name="Compression">Gzip when the key ends with ".gz".</param>
public sealed record ParsedObjectKey(
    string Prefix,
    DateTimeOffset Hour,
    string DeliveryName,
    string ShardId,
    string FirstSequenceNumber,
    string LastSequenceNumber,
    ObjectCompression Compression);
