using System.Buffers;

namespace Streams.Server.Firehose.Output;

/// <summary>
/// A finished object's bytes, in pooled chunks owned by the <see cref="DeliveryObjectBuilder"/>
/// that made them: valid until that builder is reset or disposed.
/// </summary>
/// <param name="Bytes">The object's bytes.</param>
public readonly record struct DeliveryObjectContent(ReadOnlySequence<byte> Bytes)
{
    /// <summary>The object's size in bytes (after compression).</summary>
    public long Length => Bytes.Length;
}
