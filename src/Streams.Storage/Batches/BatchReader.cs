using System.Buffers;

namespace Streams.Storage.Batches;

/// <summary>
/// Opens batches for reading with a decompression buffer rented from
/// <see cref="ArrayPool{T}.Shared"/> and kept between batches, so that reading allocates nothing
/// once the buffer has grown to the batch size in use. Not thread-safe: one per reader.
/// </summary>
public sealed class BatchReader : IDisposable
{
    private byte[] _buffer = [];
    private bool _disposed;

    /// <summary>
    /// Validates a whole batch and opens it (see <see cref="BatchRecords.Open"/>). The records of an
    /// LZ4 batch live in this reader's buffer: valid until the next <see cref="Open"/> or
    /// <see cref="Dispose"/>.
    /// </summary>
    /// <param name="batch">Exactly one batch: its header's Length bytes.</param>
    /// <exception cref="InvalidDataException">The batch fails validation or its records are malformed.</exception>
    public BatchRecords Open(ReadOnlySpan<byte> batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var header = BatchRecords.ValidateHeader(batch);
        if (header.Codec == BatchCodec.Lz4 && _buffer.Length < header.RecordsLength)
        {
            var previous = _buffer;
            _buffer = ArrayPool<byte>.Shared.Rent(header.RecordsLength);
            if (previous.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(previous);
            }
        }

        return BatchRecords.OpenValidated(batch, header, _buffer);
    }

    /// <summary>Returns the buffer to the pool; records read through this reader are no longer valid.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = [];
    }
}
