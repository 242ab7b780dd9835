using System.Buffers.Binary;

namespace Streams.Storage.Batches;

/// <summary>
/// The fixed 72-byte header of a batch, the unit of a shard's log (one Raft entry). All fields are
/// little-endian.
/// <code>
/// offset size field
///  0     4    Length               whole batch in bytes, header included
///  4     4    Crc32C               CRC-32C of bytes [8, Length): everything after this field
///  8     1    FormatVersion        1
///  9     1    Codec                BatchCodec of the record section
/// 10     2    Attributes           BatchAttributes; unknown bits must be zero
/// 12     4    RecordCount          records in the batch (0 for a control entry)
/// 16     8    Term                 Raft term
/// 24     8    Index                Raft index, which is also the batch's position in the log
/// 32     8    FirstTimestampMs     arrival time of the first record, Unix milliseconds
/// 40     8    MaxTimestampMs       latest arrival time in the batch, Unix milliseconds
/// 48     8    ProducerId           idempotent producer, or -1
/// 56     4    ProducerEpoch        the producer's epoch, or -1
/// 60     4    ProducerSequence     sequence of the batch's first record for that producer, or -1
/// 64     4    RecordsLength        length of the record section before compression
/// 68     4    Reserved             must be zero
/// 72     ...  record section       (Length - 72 bytes, compressed with Codec)
/// </code>
/// The length comes first so that a reader can frame a batch before checking it; the CRC covers
/// every other byte, so a torn or garbled batch fails the check whatever part is damaged.
/// </summary>
public readonly record struct BatchHeader
{
    /// <summary>Bytes in the header.</summary>
    public const int Size = 72;

    /// <summary>The format this code writes.</summary>
    public const byte CurrentFormatVersion = 1;

    /// <summary>The largest batch accepted (64 MiB): a length beyond it is damage, not data.</summary>
    public const int MaxLength = 64 * 1024 * 1024;

    /// <summary>Offset of the first byte the CRC covers.</summary>
    public const int CrcStart = 8;

    /// <summary>Whole batch in bytes, header included.</summary>
    public int Length { get; init; }

    /// <summary>CRC-32C of every byte after the CRC field.</summary>
    public uint Crc32C { get; init; }

    /// <summary>The batch format version.</summary>
    public byte FormatVersion { get; init; }

    /// <summary>How the record section is compressed.</summary>
    public BatchCodec Codec { get; init; }

    /// <summary>Attributes (control entry or records).</summary>
    public BatchAttributes Attributes { get; init; }

    /// <summary>Records in the batch.</summary>
    public int RecordCount { get; init; }

    /// <summary>Raft term of the entry.</summary>
    public long Term { get; init; }

    /// <summary>Raft index of the entry: its position in the log.</summary>
    public long Index { get; init; }

    /// <summary>Arrival time of the first record, Unix milliseconds.</summary>
    public long FirstTimestampMs { get; init; }

    /// <summary>Latest arrival time in the batch, Unix milliseconds.</summary>
    public long MaxTimestampMs { get; init; }

    /// <summary>Idempotent producer id, or -1.</summary>
    public long ProducerId { get; init; }

    /// <summary>The producer's epoch, or -1.</summary>
    public int ProducerEpoch { get; init; }

    /// <summary>Sequence of the first record for that producer, or -1.</summary>
    public int ProducerSequence { get; init; }

    /// <summary>Length of the record section before compression.</summary>
    public int RecordsLength { get; init; }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        var d = destination[..Size];
        BinaryPrimitives.WriteInt32LittleEndian(d, Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], Crc32C);
        d[8] = FormatVersion;
        d[9] = (byte)Codec;
        BinaryPrimitives.WriteUInt16LittleEndian(d[10..], (ushort)Attributes);
        BinaryPrimitives.WriteInt32LittleEndian(d[12..], RecordCount);
        BinaryPrimitives.WriteInt64LittleEndian(d[16..], Term);
        BinaryPrimitives.WriteInt64LittleEndian(d[24..], Index);
        BinaryPrimitives.WriteInt64LittleEndian(d[32..], FirstTimestampMs);
        BinaryPrimitives.WriteInt64LittleEndian(d[40..], MaxTimestampMs);
        BinaryPrimitives.WriteInt64LittleEndian(d[48..], ProducerId);
        BinaryPrimitives.WriteInt32LittleEndian(d[56..], ProducerEpoch);
        BinaryPrimitives.WriteInt32LittleEndian(d[60..], ProducerSequence);
        BinaryPrimitives.WriteInt32LittleEndian(d[64..], RecordsLength);
        BinaryPrimitives.WriteInt32LittleEndian(d[68..], 0);
    }

    /// <summary>Reads the fields of a header; no check beyond having <see cref="Size"/> bytes.</summary>
    public static BatchHeader Read(ReadOnlySpan<byte> source)
    {
        var s = source[..Size];
        return new BatchHeader
        {
            Length = BinaryPrimitives.ReadInt32LittleEndian(s),
            Crc32C = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
            FormatVersion = s[8],
            Codec = (BatchCodec)s[9],
            Attributes = (BatchAttributes)BinaryPrimitives.ReadUInt16LittleEndian(s[10..]),
            RecordCount = BinaryPrimitives.ReadInt32LittleEndian(s[12..]),
            Term = BinaryPrimitives.ReadInt64LittleEndian(s[16..]),
            Index = BinaryPrimitives.ReadInt64LittleEndian(s[24..]),
            FirstTimestampMs = BinaryPrimitives.ReadInt64LittleEndian(s[32..]),
            MaxTimestampMs = BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            ProducerId = BinaryPrimitives.ReadInt64LittleEndian(s[48..]),
            ProducerEpoch = BinaryPrimitives.ReadInt32LittleEndian(s[56..]),
            ProducerSequence = BinaryPrimitives.ReadInt32LittleEndian(s[60..]),
            RecordsLength = BinaryPrimitives.ReadInt32LittleEndian(s[64..]),
        };
    }

    /// <summary>CRC-32C of a whole batch's bytes after the CRC field.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> batch) => Checksum.Crc32C(batch[CrcStart..]);

    /// <summary>
    /// Seals a whole batch whose other bytes are final: computes its CRC-32C and writes it into
    /// the CRC field (bytes 4 to 8).
    /// </summary>
    public static void WriteCrc(Span<byte> batch) => BinaryPrimitives.WriteUInt32LittleEndian(batch[4..], ComputeCrc(batch));

    /// <summary>
    /// Checks a whole batch (exactly <see cref="Length"/> bytes): length, CRC, version, codec,
    /// attributes and reserved bytes. Returns null when it is sound, else what is wrong.
    /// </summary>
    public static string? Validate(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < Size)
        {
            return $"a batch needs at least {Size} bytes, got {batch.Length}";
        }

        var header = Read(batch);
        if (header.Length != batch.Length || header.Length < Size || header.Length > MaxLength)
        {
            return $"the header says {header.Length} bytes, the batch has {batch.Length} (at most {MaxLength})";
        }

        var crc = ComputeCrc(batch);
        if (crc != header.Crc32C)
        {
            return $"CRC-32C is 0x{crc:x8}, the header says 0x{header.Crc32C:x8}";
        }

        if (header.FormatVersion != CurrentFormatVersion)
        {
            return $"format version {header.FormatVersion} is not one this build reads ({CurrentFormatVersion})";
        }

        if (header.Codec is not (BatchCodec.None or BatchCodec.Lz4))
        {
            return $"unknown codec {(byte)header.Codec}";
        }

        if ((header.Attributes & ~BatchAttributes.Control) != 0 || BinaryPrimitives.ReadInt32LittleEndian(batch[68..]) != 0)
        {
            return "reserved attribute bits or bytes are not zero";
        }

        return header.RecordCount < 0 || header.RecordsLength < 0 ? "negative record count or length" : null;
    }
}
