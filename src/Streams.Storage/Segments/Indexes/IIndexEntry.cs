namespace Streams.Storage.Segments.Indexes;

/// <summary>A fixed-size, little-endian entry of an index file.</summary>
/// <typeparam name="TSelf">The entry type.</typeparam>
internal interface IIndexEntry<TSelf>
    where TSelf : struct, IIndexEntry<TSelf>
{
    /// <summary>Bytes per entry on disk.</summary>
    static abstract int Size { get; }

    /// <summary>The four ASCII bytes that open an index file of this kind.</summary>
    static abstract ReadOnlySpan<byte> Magic { get; }

    /// <summary>Reads an entry from the first <see cref="Size"/> bytes.</summary>
    static abstract TSelf Read(ReadOnlySpan<byte> source);

    /// <summary>Writes the entry into the first <see cref="Size"/> bytes.</summary>
    void Write(Span<byte> destination);
}
