using System.Buffers.Binary;

namespace Streams.Storage.Batches;

/// <summary>
/// One record of a batch as <see cref="RecordReader"/> finds it: views into the batch's record
/// section, valid as long as the batch (or the buffer it was decompressed into) is.
/// </summary>
public readonly ref struct Record
{
    private readonly ReadOnlySpan<byte> _section;
    private readonly int _keyStart;
    private readonly int _keyLength;
    private readonly int _dataStart;
    private readonly int _dataLength;

    // Where the 16-byte explicit hash key starts, or -1 when there is none.
    private readonly int _hashKeyStart;

    internal Record(ReadOnlySpan<byte> section, int keyStart, int keyLength, int hashKeyStart, int dataStart, int dataLength, long arrivalTimestampMs, int position)
    {
        _section = section;
        _keyStart = keyStart;
        _keyLength = keyLength;
        _hashKeyStart = hashKeyStart;
        _dataStart = dataStart;
        _dataLength = dataLength;
        ArrivalTimestampMs = arrivalTimestampMs;
        Position = position;
    }

    /// <summary>The partition key, UTF-8.</summary>
    public ReadOnlySpan<byte> PartitionKey => _section.Slice(_keyStart, _keyLength);

    /// <summary>The explicit hash key, or null when the shard follows from the partition key's hash.</summary>
    public UInt128? ExplicitHashKey => _hashKeyStart < 0
        ? null
        : BinaryPrimitives.ReadUInt128LittleEndian(_section.Slice(_hashKeyStart, RecordSection.HashKeyLength));

    /// <summary>The record's bytes.</summary>
    public ReadOnlySpan<byte> Data => _section.Slice(_dataStart, _dataLength);

    /// <summary>When the record arrived, Unix milliseconds.</summary>
    public long ArrivalTimestampMs { get; }

    /// <summary>The record's position in its batch, from 0.</summary>
    public int Position { get; }
}
