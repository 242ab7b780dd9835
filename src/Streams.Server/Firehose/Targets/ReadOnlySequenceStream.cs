using System.Buffers;

namespace Streams.Server.Firehose.Targets;

/// <summary>
/// A read-only, seekable <see cref="Stream"/> over a <see cref="ReadOnlySequence{T}"/>, so an
/// object (or a part of it) is uploaded from its pooled chunks without being copied into one
/// array. Seekable because the S3 client reads the body twice (to sign it, then to send it) and
/// rewinds it to retry.
/// </summary>
internal sealed class ReadOnlySequenceStream : Stream
{
    private readonly ReadOnlySequence<byte> _content;
    private ReadOnlySequence<byte> _remaining;
    private long _position;

    /// <summary>A stream of <paramref name="content"/>, positioned at its start.</summary>
    public ReadOnlySequenceStream(ReadOnlySequence<byte> content)
    {
        _content = content;
        _remaining = content;
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => true;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => _content.Length;

    /// <inheritdoc />
    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _content.Length);
            _remaining = _content.Slice(value);
            _position = value;
        }
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _remaining.Length);
        if (count == 0)
        {
            return 0;
        }

        _remaining.Slice(0, count).CopyTo(buffer);
        _remaining = _remaining.Slice(count);
        _position += count;
        return count;
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(buffer.AsSpan(offset, count)));
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _content.Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    /// <inheritdoc />
    public override void Flush()
    {
        // Nothing to flush: the stream is read-only.
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
