using System.Buffers.Binary;

namespace Streams.Storage.Segments.Indexes;

/// <summary>
/// An entry of the sparse offset index (<c>&lt;base&gt;.index</c>): where a batch starts in its
/// segment's log file.
/// <code>
/// offset size field
///  0     4    RelativeIndex   batch index - segment base index (UInt32 LE)
///  4     4    Position        byte offset of the batch in the log file (UInt32 LE)
/// </code>
/// One entry is made for the first batch that starts IndexIntervalBytes or more after the batch
/// of the previous entry (the first batch, at position 0, is the implicit entry 0).
/// </summary>
internal readonly record struct OffsetIndexEntry(uint RelativeIndex, uint Position) : IIndexEntry<OffsetIndexEntry>
{
    /// <inheritdoc/>
    public static int Size => 8;

    /// <inheritdoc/>
    public static ReadOnlySpan<byte> Magic => "SIDX"u8;

    /// <inheritdoc/>
    public static OffsetIndexEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));

    /// <inheritdoc/>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, RelativeIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Position);
    }
}
