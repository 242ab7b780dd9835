using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Streams.Storage.Segments.Recovery;

/// <summary>Reads a file front to back through one pooled window (1 MiB, larger for a larger batch).</summary>
internal sealed class SequentialReader : IDisposable
{
    private const int WindowBytes = 1024 * 1024;
    private readonly SafeFileHandle _handle;
    private readonly long _end;
    private byte[] _buffer;
    private long _start;
    private int _length;

    /// <summary>Reads <paramref name="handle"/> up to <paramref name="end"/>.</summary>
    public SequentialReader(SafeFileHandle handle, long end)
    {
        _handle = handle;
        _end = end;
        _buffer = ArrayPool<byte>.Shared.Rent(WindowBytes);
    }

    /// <summary>The bytes [position, position + count), fewer when the file ends first. Valid until the next call.</summary>
    public ReadOnlySpan<byte> Read(long position, int count)
    {
        if (position >= _start && position + count <= _start + _length)
        {
            return _buffer.AsSpan((int)(position - _start), count);
        }

        if (count > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(count);
        }

        var wanted = (int)Math.Min(_buffer.Length, Math.Max(0, _end - position));
        var total = 0;
        while (total < wanted)
        {
            var read = RandomAccess.Read(_handle, _buffer.AsSpan(total, wanted - total), position + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        _start = position;
        _length = total;
        return _buffer.AsSpan(0, Math.Min(count, total));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }
}
