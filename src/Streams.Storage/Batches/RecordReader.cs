using System.Diagnostics.CodeAnalysis;

namespace Streams.Storage.Batches;

/// <summary>
/// Enumerates the records of a record section (see <see cref="RecordSection"/>) without allocating:
/// <c>foreach (var record in batchRecords) { ... }</c>. A record that does not parse, a section that
/// ends before the header's record count or bytes left after the last record throw
/// <see cref="InvalidDataException"/> saying what is wrong; a record is never half-read.
/// </summary>
public ref struct RecordReader
{
    private readonly ReadOnlySpan<byte> _section;
    private readonly int _count;
    private readonly long _firstTimestampMs;
    private readonly long _batchIndex;
    private int _offset;
    private int _position;
    private Record _current;

    internal RecordReader(ReadOnlySpan<byte> section, int count, long firstTimestampMs, long batchIndex)
    {
        _section = section;
        _count = count;
        _firstTimestampMs = firstTimestampMs;
        _batchIndex = batchIndex;
        _offset = 0;
        _position = 0;
        _current = default;
    }

    /// <summary>The record <see cref="MoveNext"/> found.</summary>
    public readonly Record Current => _current;

    /// <summary>Records read so far.</summary>
    public readonly int RecordsRead => _position;

    /// <summary>This reader, so that <c>foreach</c> works on it.</summary>
    public readonly RecordReader GetEnumerator() => this;

    /// <summary>Reads the next record; false after the last one.</summary>
    /// <exception cref="InvalidDataException">The record section is malformed.</exception>
    public bool MoveNext()
    {
        if (_position == _count)
        {
            if (_offset != _section.Length)
            {
                Malformed($"{_section.Length - _offset} bytes follow the last of its {_count} records");
            }

            return false;
        }

        var section = _section;
        var start = _offset;
        if (start == section.Length)
        {
            Malformed($"it ends after {_position} of its {_count} records");
        }

        var read = Varint.TryRead(section[start..], Varint.MaxLength32, out var keyLength);
        var at = start + read;
        if (read <= 0 || keyLength > (ulong)(section.Length - at))
        {
            MalformedRecord(read <= 0 ? "the partition key length is not a varint of at most 5 bytes within the section" : $"the partition key ({keyLength} bytes) runs past the end of the section ({section.Length - at} bytes left)");
        }

        var keyStart = at;
        at += (int)keyLength;
        if (at == section.Length)
        {
            MalformedRecord("the section ends before the explicit-hash-key flag");
        }

        var hashKeyStart = -1;
        var flag = section[at++];
        if (flag == RecordSection.HasHashKey)
        {
            if (section.Length - at < RecordSection.HashKeyLength)
            {
                MalformedRecord($"the explicit hash key (16 bytes) runs past the end of the section ({section.Length - at} bytes left)");
            }

            hashKeyStart = at;
            at += RecordSection.HashKeyLength;
        }
        else if (flag != RecordSection.NoHashKey)
        {
            MalformedRecord($"the explicit-hash-key flag is {flag}, not 0 or 1");
        }

        read = Varint.TryRead(section[at..], Varint.MaxLength32, out var dataLength);
        at += Math.Max(read, 0);
        if (read <= 0 || dataLength > (ulong)(section.Length - at))
        {
            MalformedRecord(read <= 0 ? "the data length is not a varint of at most 5 bytes within the section" : $"the data ({dataLength} bytes) runs past the end of the section ({section.Length - at} bytes left)");
        }

        var dataStart = at;
        at += (int)dataLength;
        read = Varint.TryRead(section[at..], Varint.MaxLength64, out var delta);
        if (read <= 0)
        {
            MalformedRecord("the arrival-time delta is not a varint of at most 10 bytes within the section");
        }

        _current = new Record(section, keyStart, (int)keyLength, hashKeyStart, dataStart, (int)dataLength, unchecked(_firstTimestampMs + Varint.UnZigZag(delta)), _position);
        _offset = at + read;
        _position++;
        return true;
    }

    [DoesNotReturn]
    private readonly void MalformedRecord(string problem) =>
        Malformed($"record {_position} of {_count}, at offset {_offset}: {problem}");

    [DoesNotReturn]
    private readonly void Malformed(string problem) =>
        throw new InvalidDataException($"The record section of batch {_batchIndex} ({_section.Length} bytes) is malformed: {problem}.");
}
