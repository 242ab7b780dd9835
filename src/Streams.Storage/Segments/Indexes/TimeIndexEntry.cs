using System.Buffers.Binary;

namespace Streams.Storage.Segments.Indexes;

/// <summary>
/// An entry of the sparse time index (<c>&lt;base&gt;.timeindex</c>): every batch up to and
/// including RelativeIndex has MaxTimestampMs at most this entry's value.
/// <code>
/// offset size field
///  0     8    MaxTimestampMs  largest batch MaxTimestampMs so far in the segment (Int64 LE)
///  8     4    RelativeIndex   batch index - segment base index (UInt32 LE)
/// </code>
/// An entry is made beside an offset index entry when the maximum grew since the previous time
/// entry, and once more when the segment rolls if the maximum grew after the last one, so both
/// fields strictly increase and the last entry holds the segment's maximum.
/// </summary>
internal readonly record struct TimeIndexEntry(long MaxTimestampMs, uint RelativeIndex) : IIndexEntry<TimeIndexEntry>
{
    /// <inheritdoc/>
    public static int Size => 12;

    /// <inheritdoc/>
    public static ReadOnlySpan<byte> Magic => "STIX"u8;

    /// <inheritdoc/>
    public static TimeIndexEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));

    /// <inheritdoc/>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, MaxTimestampMs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], RelativeIndex);
    }
}
