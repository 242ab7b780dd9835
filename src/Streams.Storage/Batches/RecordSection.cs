namespace Streams.Storage.Batches;

/// <summary>
/// The record section of a batch: what follows the <see cref="BatchHeader"/>, before compression
/// (<see cref="BatchHeader.RecordsLength"/> bytes). Records follow one another with nothing
/// between them and nothing after the last; each is
/// <code>
/// size      field
/// 1-5       partition key length   unsigned LEB128 varint (7 bits a byte, low group first)
/// n         partition key          UTF-8 bytes (1 to 256 characters is the API's rule; the format
///                                  takes any length, empty included)
/// 1         hash-key flag          0: no explicit hash key; 1: one follows; any other value is damage
/// 0 or 16   explicit hash key      UInt128, little-endian, only when the flag is 1
/// 1-5       data length            unsigned LEB128 varint
/// n         data                   the record's bytes
/// 1-10      arrival-time delta     zig-zag LEB128 varint: arrival time in Unix milliseconds minus
///                                  the header's FirstTimestampMs (so 0 for the first record),
///                                  computed with 64-bit wrap-around
/// </code>
/// The header's <see cref="BatchHeader.RecordCount"/> is the number of records, its
/// <see cref="BatchHeader.FirstTimestampMs"/> the first record's arrival time and its
/// <see cref="BatchHeader.MaxTimestampMs"/> the latest one. A record of 100 bytes with a
/// 10-character key and no hash key takes 1 + 10 + 1 + 1 + 100 + 1 = 114 bytes when it arrived
/// within 63 ms of the batch's first record.
/// <para>
/// In a control batch (<see cref="BatchAttributes.Control"/>) the record section is instead one
/// opaque payload of the consensus layer and the record count is 0.
/// </para>
/// </summary>
public static class RecordSection
{
    /// <summary>Bytes of an explicit hash key.</summary>
    public const int HashKeyLength = 16;

    /// <summary>The flag byte when no explicit hash key follows.</summary>
    internal const byte NoHashKey = 0;

    /// <summary>The flag byte when a 16-byte explicit hash key follows.</summary>
    internal const byte HasHashKey = 1;

    /// <summary>
    /// Bytes one record takes in the record section, so that a caller can tell whether it still
    /// fits a batch of a given size.
    /// </summary>
    /// <param name="partitionKeyLength">Length of the partition key in UTF-8 bytes.</param>
    /// <param name="hasExplicitHashKey">Whether the record carries an explicit hash key.</param>
    /// <param name="dataLength">Length of the data.</param>
    /// <param name="arrivalDeltaMs">Arrival time minus the batch's first arrival time, in milliseconds.</param>
    public static int MeasureRecord(int partitionKeyLength, bool hasExplicitHashKey, int dataLength, long arrivalDeltaMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partitionKeyLength);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        var size = (long)Varint.Size((uint)partitionKeyLength) + partitionKeyLength
            + 1 + (hasExplicitHashKey ? HashKeyLength : 0)
            + Varint.Size((uint)dataLength) + dataLength
            + Varint.Size(Varint.ZigZag(arrivalDeltaMs));
        return size > int.MaxValue ? throw new ArgumentOutOfRangeException(nameof(dataLength), "the record is larger than 2 GiB") : (int)size;
    }
}
