using System.Buffers;
using System.IO.Compression;

namespace Streams.Rpc.Framing;

/// <summary>The message encodings we speak (<c>grpc-encoding</c>): identity and gzip.</summary>
internal static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";

    /// <summary>What we send in <c>grpc-accept-encoding</c>.</summary>
    public const string AcceptEncodingValue = "identity,gzip";

    /// <summary>True when <paramref name="encoding"/> is one we can decode.</summary>
    public static bool IsSupported(string? encoding) =>
        string.IsNullOrEmpty(encoding) || encoding == Identity || encoding == Gzip;

    /// <summary>True when a comma-separated <c>grpc-accept-encoding</c> list names gzip.</summary>
    public static bool AcceptsGzip(string? acceptEncoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding))
        {
            return false;
        }

        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            if (acceptEncoding.AsSpan()[range].Trim().SequenceEqual(Gzip))
            {
                return true;
            }
        }

        return false;
    }

    public static void Compress(ReadOnlySpan<byte> input, PooledBufferWriter output)
    {
        using var stream = new BufferWriterStream(output);
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(input);
        }
    }

    /// <summary>
    /// Inflates <paramref name="input"/> into <paramref name="output"/>; false when the result
    /// would exceed <paramref name="maxLength"/> bytes, so a small message cannot expand without bound.
    /// </summary>
    public static bool TryDecompress(in ReadOnlySequence<byte> input, PooledBufferWriter output, int maxLength)
    {
        using var source = new SequenceStream(input);
        using var gzip = new GZipStream(source, CompressionMode.Decompress);
        while (true)
        {
            var span = output.GetSpan(16 * 1024);
            var read = gzip.Read(span);
            if (read == 0)
            {
                return true;
            }

            output.Advance(read);
            if (output.WrittenCount > maxLength)
            {
                return false;
            }
        }
    }

    /// <summary>A write-only stream into a buffer writer.</summary>
    private sealed class BufferWriterStream(PooledBufferWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            buffer.CopyTo(writer.GetSpan(buffer.Length));
            writer.Advance(buffer.Length);
        }
    }

    /// <summary>A read-only stream over a byte sequence.</summary>
    private sealed class SequenceStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private ReadOnlySequence<byte> _remaining = sequence;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, _remaining.Length);
            _remaining.Slice(0, count).CopyTo(buffer);
            _remaining = _remaining.Slice(count);
            return count;
        }
    }
}
