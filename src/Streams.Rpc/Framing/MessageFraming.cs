using System.Buffers;
using System.Buffers.Binary;

namespace Streams.Rpc.Framing;

/// <summary>
/// The gRPC length-prefixed message: one byte compressed flag (0 or 1), a 4-byte big-endian
/// length, then that many bytes of message.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderLength = 5;

    /// <summary>
    /// Messages up to this size are framed in one span of the output; larger ones are streamed
    /// into it, so the transport need not hand out one huge contiguous buffer.
    /// </summary>
    private const int SingleSpanLimit = 256 * 1024;

    /// <summary>
    /// Frames <paramref name="message"/> into <paramref name="output"/>. Uncompressed messages are
    /// serialized straight into the output with no intermediate copy.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxLength"/>.</exception>
    public static void Write<T>(IBufferWriter<byte> output, T message, Marshaller<T> marshaller, int maxLength, bool compress)
    {
        var size = marshaller.Measure(message);
        if (size > maxLength)
        {
            throw TooLarge("send", size, maxLength);
        }

        if (!compress)
        {
            if (size <= SingleSpanLimit)
            {
                var frame = output.GetSpan(HeaderLength + size);
                if (marshaller.TryWrite(message, frame.Slice(HeaderLength, size)))
                {
                    frame[0] = 0;
                    BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)size);
                    output.Advance(HeaderLength + size);
                    return;
                }
            }

            WriteHeader(output, compressed: false, size);
            marshaller.Write(message, output);
            return;
        }

        using var plain = new PooledBufferWriter(size);
        marshaller.Write(message, plain);
        using var packed = new PooledBufferWriter(size / 2 + 64);
        MessageCompression.Compress(plain.WrittenSpan, packed);
        WriteHeader(output, compressed: true, packed.WrittenCount);
        var span = output.GetSpan(packed.WrittenCount);
        packed.WrittenSpan.CopyTo(span);
        output.Advance(packed.WrittenCount);
    }

    /// <summary>
    /// Reads a frame header at the start of <paramref name="buffer"/>. False when fewer than five
    /// bytes are there. The header is read from the first segment when it holds it, copied otherwise.
    /// </summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out bool compressed, out uint length)
    {
        compressed = false;
        length = 0;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> copy = stackalloc byte[HeaderLength];
        scoped ReadOnlySpan<byte> header;
        if (buffer.FirstSpan.Length >= HeaderLength)
        {
            header = buffer.FirstSpan[..HeaderLength];
        }
        else
        {
            buffer.Slice(0, HeaderLength).CopyTo(copy);
            header = copy;
        }

        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(StatusCode.Internal, $"A message frame starts with compressed flag {header[0]}; it must be 0 or 1. The peer does not speak gRPC framing."),
        };
        length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return true;
    }

    public static RpcException TooLarge(string direction, long size, int maxLength) =>
        new(StatusCode.ResourceExhausted, direction == "send"
            ? $"Sending message exceeds the maximum configured message size: {size} bytes, limit {maxLength} bytes."
            : $"Received message exceeds the maximum configured message size: {size} bytes, limit {maxLength} bytes.");

    private static void WriteHeader(IBufferWriter<byte> output, bool compressed, int length)
    {
        var header = output.GetSpan(HeaderLength);
        header[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)length);
        output.Advance(HeaderLength);
    }
}
