namespace Streams.Server.Firehose.Output;

/// <summary>How a delivery stream writes records into objects.</summary>
/// <param name="Records">How each record is written.</param>
/// <param name="Delimiter">
/// <see cref="RecordFormat.Raw"/> only: written after every record, the last one included; empty
/// means the records are simply concatenated. JSON lines always end each record with "\n".
/// </param>
/// <param name="Compression">How the whole object is compressed.</param>
public sealed record ObjectFormat(RecordFormat Records, ReadOnlyMemory<byte> Delimiter, ObjectCompression Compression)
{
    /// <summary>Raw records, each followed by "\n", not compressed.</summary>
    public static ObjectFormat Default { get; } = new(RecordFormat.Raw, "\n"u8.ToArray(), ObjectCompression.None);

    /// <summary>Equal when the records, the delimiter's bytes and the compression are (not the delimiter's buffer).</summary>
    /// <param name="other">The other format.</param>
    public bool Equals(ObjectFormat? other) =>
        other is not null
        && Records == other.Records
        && Compression == other.Compression
        && Delimiter.Span.SequenceEqual(other.Delimiter.Span);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Records);
        hash.Add(Compression);
        hash.AddBytes(Delimiter.Span);
        return hash.ToHashCode();
    }
}
