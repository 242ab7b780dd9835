using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Streams.Storage.Batches;

/// <summary>
/// Encodes one batch at a time (a <see cref="BatchHeader"/> and a <see cref="RecordSection"/>) into
/// buffers rented from <see cref="ArrayPool{T}.Shared"/> and kept between batches, so that adding a
/// record allocates nothing once the buffers have grown to the batch size in use.
/// <para>
/// Use: <see cref="Reset"/>, then <see cref="Add(ReadOnlySpan{byte}, UInt128?, ReadOnlySpan{byte}, long)"/>
/// for each record (or <see cref="AddControlPayload"/> for a control batch), then
/// <see cref="Build"/>. The batch it returns lives in the builder's buffer: it stays valid until the
/// next <see cref="Reset"/> or <see cref="Dispose"/>. Not thread-safe.
/// </para>
/// </summary>
public sealed class BatchBuilder : IDisposable
{
    private static readonly UTF8Encoding _strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // The header's space followed by the record section as it is written.
    private byte[] _buffer;

    // The header's space followed by the LZ4 block, when the codec is LZ4.
    private byte[] _compressed = [];

    // Bytes of _buffer in use: the header's space and the record section so far.
    private int _length = BatchHeader.Size;
    private bool _started;
    private bool _built;
    private bool _disposed;
    private ReadOnlyMemory<byte> _batch;

    private long _term;
    private long _index;
    private BatchCodec _codec;
    private long _producerId;
    private int _producerEpoch;
    private int _producerSequence;
    private BatchAttributes _attributes;
    private int _recordCount;
    private long _firstTimestampMs;
    private long _maxTimestampMs;

    /// <summary>Creates a builder whose buffer starts at <paramref name="initialCapacityBytes"/> and grows as needed.</summary>
    /// <param name="initialCapacityBytes">The batch size expected, header included.</param>
    public BatchBuilder(int initialCapacityBytes = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacityBytes, BatchHeader.Size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCapacityBytes, BatchHeader.MaxLength);
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacityBytes);
    }

    /// <summary>Records added since <see cref="Reset"/>.</summary>
    public int RecordCount => _recordCount;

    /// <summary>Bytes of the record section (or control payload) so far, before compression.</summary>
    public int RecordsLength => _length - BatchHeader.Size;

    /// <summary>
    /// Starts a new batch, discarding the one in progress or built. The buffers are kept.
    /// </summary>
    /// <param name="term">The Raft term of the entry.</param>
    /// <param name="index">The Raft index of the entry.</param>
    /// <param name="codec">How to compress the record section; LZ4 falls back to none when it does not make the section smaller.</param>
    /// <param name="producerId">The idempotent producer, or -1.</param>
    /// <param name="producerEpoch">The producer's epoch, or -1.</param>
    /// <param name="producerSequence">The producer's sequence of the batch's first record, or -1.</param>
    /// <param name="attributes"><see cref="BatchAttributes.Control"/> for a control batch.</param>
    public void Reset(
        long term,
        long index,
        BatchCodec codec,
        long producerId = -1,
        int producerEpoch = -1,
        int producerSequence = -1,
        BatchAttributes attributes = BatchAttributes.None)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(term);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (codec is not (BatchCodec.None or BatchCodec.Lz4))
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec, "the codec must be None or Lz4");
        }

        if ((attributes & ~BatchAttributes.Control) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(attributes), attributes, "the only attribute is Control");
        }

        _term = term;
        _index = index;
        _codec = codec;
        _producerId = producerId;
        _producerEpoch = producerEpoch;
        _producerSequence = producerSequence;
        _attributes = attributes;
        _recordCount = 0;
        _firstTimestampMs = 0;
        _maxTimestampMs = 0;
        _length = BatchHeader.Size;
        _batch = default;
        _built = false;
        _started = true;
    }

    /// <summary>Appends a record whose partition key is already UTF-8.</summary>
    /// <param name="partitionKeyUtf8">The partition key as UTF-8 bytes.</param>
    /// <param name="explicitHashKey">The explicit hash key, or null to hash the partition key.</param>
    /// <param name="data">The record's bytes.</param>
    /// <param name="arrivalTimestampMs">When the record arrived, Unix milliseconds.</param>
    /// <exception cref="InvalidOperationException">
    /// No <see cref="Reset"/> yet, the batch is built or is a control batch, or the record would take
    /// the batch past <see cref="BatchHeader.MaxLength"/>.
    /// </exception>
    public void Add(ReadOnlySpan<byte> partitionKeyUtf8, UInt128? explicitHashKey, ReadOnlySpan<byte> data, long arrivalTimestampMs)
    {
        var delta = StartRecord(arrivalTimestampMs);
        var size = RecordSection.MeasureRecord(partitionKeyUtf8.Length, explicitHashKey.HasValue, data.Length, delta);
        var record = Reserve(size);
        var written = Varint.Write(record, (uint)partitionKeyUtf8.Length);
        partitionKeyUtf8.CopyTo(record[written..]);
        WriteRest(record[(written + partitionKeyUtf8.Length)..], explicitHashKey, data, delta);
        FinishRecord(size, arrivalTimestampMs);
    }

    /// <summary>Appends a record, encoding its partition key to UTF-8 in place (no allocation).</summary>
    /// <param name="partitionKey">The partition key.</param>
    /// <param name="explicitHashKey">The explicit hash key, or null to hash the partition key.</param>
    /// <param name="data">The record's bytes.</param>
    /// <param name="arrivalTimestampMs">When the record arrived, Unix milliseconds.</param>
    /// <exception cref="ArgumentException">The key is not well-formed UTF-16 (a lone surrogate).</exception>
    /// <exception cref="InvalidOperationException">
    /// No <see cref="Reset"/> yet, the batch is built or is a control batch, or the record would take
    /// the batch past <see cref="BatchHeader.MaxLength"/>.
    /// </exception>
    public void Add(ReadOnlySpan<char> partitionKey, UInt128? explicitHashKey, ReadOnlySpan<byte> data, long arrivalTimestampMs)
    {
        var delta = StartRecord(arrivalTimestampMs);
        int keyLength;
        try
        {
            keyLength = _strictUtf8.GetByteCount(partitionKey);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The partition key is not well-formed UTF-16: it holds a lone surrogate.", nameof(partitionKey), e);
        }

        var size = RecordSection.MeasureRecord(keyLength, explicitHashKey.HasValue, data.Length, delta);
        var record = Reserve(size);
        var written = Varint.Write(record, (uint)keyLength);
        written += _strictUtf8.GetBytes(partitionKey, record[written..]);
        WriteRest(record[written..], explicitHashKey, data, delta);
        FinishRecord(size, arrivalTimestampMs);
    }

    /// <summary>
    /// Appends bytes to the payload of a control batch (one started with
    /// <see cref="BatchAttributes.Control"/>); may be called more than once. A control batch's
    /// record count and timestamps are 0, and an empty payload is allowed.
    /// </summary>
    /// <param name="payload">Bytes of the consensus layer's payload.</param>
    /// <exception cref="InvalidOperationException">
    /// No <see cref="Reset"/> yet, the batch is built or is not a control batch, or the payload would
    /// take the batch past <see cref="BatchHeader.MaxLength"/>.
    /// </exception>
    public void AddControlPayload(ReadOnlySpan<byte> payload)
    {
        ThrowIfNotAdding();
        if ((_attributes & BatchAttributes.Control) == 0)
        {
            throw new InvalidOperationException("A control payload goes into a control batch: call Reset with BatchAttributes.Control first.");
        }

        payload.CopyTo(Reserve(payload.Length));
        _length += payload.Length;
    }

    /// <summary>
    /// Finishes the batch: compresses the record section when the codec is LZ4 and that makes it
    /// smaller (else the header says <see cref="BatchCodec.None"/>), then writes the header with its
    /// length, counts, timestamps and CRC. Calling it again returns the same batch.
    /// </summary>
    /// <returns>The whole batch, valid until the next <see cref="Reset"/> or <see cref="Dispose"/>.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="Reset"/> yet, or a batch of records without records.</exception>
    public ReadOnlyMemory<byte> Build()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_started)
        {
            throw new InvalidOperationException("Call Reset before building a batch.");
        }

        if (_built)
        {
            return _batch;
        }

        if ((_attributes & BatchAttributes.Control) == 0 && _recordCount == 0)
        {
            throw new InvalidOperationException("A batch of records needs at least one record.");
        }

        var recordsLength = _length - BatchHeader.Size;
        var output = _buffer;
        var length = _length;
        var codec = BatchCodec.None;
        if (_codec == BatchCodec.Lz4 && recordsLength > 0)
        {
            var bound = Lz4Library.CompressBound(recordsLength);
            if (_compressed.Length < BatchHeader.Size + bound)
            {
                var previous = _compressed;
                _compressed = ArrayPool<byte>.Shared.Rent(BatchHeader.Size + bound);
                ReturnToPool(previous);
            }

            var compressed = Lz4Library.Compress(_buffer.AsSpan(BatchHeader.Size, recordsLength), _compressed.AsSpan(BatchHeader.Size, bound));
            if (compressed > 0 && compressed < recordsLength)
            {
                output = _compressed;
                length = BatchHeader.Size + compressed;
                codec = BatchCodec.Lz4;
            }
        }

        var batch = output.AsSpan(0, length);
        new BatchHeader
        {
            Length = length,
            FormatVersion = BatchHeader.CurrentFormatVersion,
            Codec = codec,
            Attributes = _attributes,
            RecordCount = _recordCount,
            Term = _term,
            Index = _index,
            FirstTimestampMs = _firstTimestampMs,
            MaxTimestampMs = _maxTimestampMs,
            ProducerId = _producerId,
            ProducerEpoch = _producerEpoch,
            ProducerSequence = _producerSequence,
            RecordsLength = recordsLength,
        }.Write(batch);
        BatchHeader.WriteCrc(batch);
        _batch = output.AsMemory(0, length);
        _built = true;
        return _batch;
    }

    /// <summary>Returns the buffers to the pool; a batch <see cref="Build"/> returned is no longer valid.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _batch = default;
        ReturnToPool(_buffer);
        ReturnToPool(_compressed);
        _buffer = [];
        _compressed = [];
    }

    private static void ReturnToPool(byte[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private static void WriteRest(Span<byte> destination, UInt128? explicitHashKey, ReadOnlySpan<byte> data, long delta)
    {
        int written;
        if (explicitHashKey is { } hashKey)
        {
            destination[0] = RecordSection.HasHashKey;
            BinaryPrimitives.WriteUInt128LittleEndian(destination[1..], hashKey);
            written = 1 + RecordSection.HashKeyLength;
        }
        else
        {
            destination[0] = RecordSection.NoHashKey;
            written = 1;
        }

        written += Varint.Write(destination[written..], (uint)data.Length);
        data.CopyTo(destination[written..]);
        Varint.Write(destination[(written + data.Length)..], Varint.ZigZag(delta));
    }

    private void ThrowIfNotAdding()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_started || _built)
        {
            throw new InvalidOperationException(_built
                ? "The batch is built: call Reset to start the next one."
                : "Call Reset before adding to a batch.");
        }
    }

    // Checks the state and returns the record's arrival-time delta; changes nothing.
    private long StartRecord(long arrivalTimestampMs)
    {
        ThrowIfNotAdding();
        if ((_attributes & BatchAttributes.Control) != 0)
        {
            throw new InvalidOperationException("A control batch holds a payload, not records: use AddControlPayload.");
        }

        return _recordCount == 0 ? 0 : unchecked(arrivalTimestampMs - _firstTimestampMs);
    }

    private void FinishRecord(int size, long arrivalTimestampMs)
    {
        if (_recordCount == 0)
        {
            _firstTimestampMs = arrivalTimestampMs;
            _maxTimestampMs = arrivalTimestampMs;
        }
        else if (arrivalTimestampMs > _maxTimestampMs)
        {
            _maxTimestampMs = arrivalTimestampMs;
        }

        _recordCount++;
        _length += size;
    }

    // The next size bytes of the buffer, grown if needed; _length moves only when the caller commits.
    private Span<byte> Reserve(int size)
    {
        var needed = (long)_length + size;
        if (needed > BatchHeader.MaxLength)
        {
            throw new InvalidOperationException(
                $"Adding {size} bytes would take the batch to {needed} bytes, past the largest batch ({BatchHeader.MaxLength}): build this batch and start another.");
        }

        if (needed > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, Math.Min(2L * _buffer.Length, BatchHeader.MaxLength)));
            _buffer.AsSpan(0, _length).CopyTo(grown);
            ReturnToPool(_buffer);
            _buffer = grown;
        }

        return _buffer.AsSpan(_length, size);
    }
}
