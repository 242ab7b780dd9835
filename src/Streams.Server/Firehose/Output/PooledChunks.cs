using System.Buffers;

namespace Streams.Server.Firehose.Output;

/// <summary>
/// An object's bytes as a chain of arrays rented from <see cref="ArrayPool{T}.Shared"/>: objects
/// reach ~130 MiB, so they are never one contiguous array. Chunks start small (most objects of a
/// quiet stream are small) and double up to <see cref="MaxChunkBytes"/>.
/// </summary>
internal sealed class PooledChunks : IDisposable
{
    /// <summary>The first chunk's size.</summary>
    public const int FirstChunkBytes = 64 * 1024;

    /// <summary>The size chunks grow to.</summary>
    public const int MaxChunkBytes = 1024 * 1024;

    // Segments in use come first; the rest are kept (without arrays) for the next object.
    private readonly List<ChunkSegment> _segments = [];
    private int _used;
    private long _completedBytes;

    /// <summary>Bytes written so far.</summary>
    public long Length => _used == 0 ? 0 : _completedBytes + Current.Written;

    private ChunkSegment Current => _segments[_used - 1];

    /// <summary>Copies <paramref name="bytes"/> in, across as many chunks as it takes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_used == 0 || Current.Free == 0)
            {
                StartChunk();
            }

            var current = Current;
            var count = Math.Min(bytes.Length, current.Free);
            bytes[..count].CopyTo(current.Buffer.AsSpan(current.Written));
            current.Written += count;
            bytes = bytes[count..];
        }
    }

    /// <summary>The bytes written so far; valid until <see cref="Reset"/>, and only while nothing more is written.</summary>
    public ReadOnlySequence<byte> ToSequence()
    {
        if (_used == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        ChunkSegment? next = null;
        for (var i = _used - 1; i >= 0; i--)
        {
            _segments[i].Seal(next);
            next = _segments[i];
        }

        return new ReadOnlySequence<byte>(_segments[0], 0, Current, Current.Written);
    }

    /// <summary>Returns every chunk to the pool; the writer is empty and can be used again.</summary>
    public void Reset()
    {
        for (var i = 0; i < _used; i++)
        {
            ArrayPool<byte>.Shared.Return(_segments[i].Detach());
        }

        _used = 0;
        _completedBytes = 0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Reset();
        _segments.Clear();
    }

    private void StartChunk()
    {
        var runningIndex = Length;
        if (_used > 0)
        {
            _completedBytes += Current.Written;
        }

        var size = _used >= 4 ? MaxChunkBytes : FirstChunkBytes << _used;
        if (_used == _segments.Count)
        {
            _segments.Add(new ChunkSegment());
        }

        _segments[_used].Attach(ArrayPool<byte>.Shared.Rent(size), runningIndex);
        _used++;
    }
}
