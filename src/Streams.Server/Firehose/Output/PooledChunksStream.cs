namespace Streams.Server.Firehose.Output;

/// <summary>A write-only <see cref="Stream"/> into <see cref="PooledChunks"/>, for <see cref="System.IO.Compression.GZipStream"/> to write into.</summary>
internal sealed class PooledChunksStream(PooledChunks chunks) : Stream
{
    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer) => chunks.Write(buffer);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => chunks.Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void WriteByte(byte value) => chunks.Write([value]);

    /// <inheritdoc />
    public override void Flush()
    {
        // Nothing is buffered here.
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
