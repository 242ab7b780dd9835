using System.Buffers.Binary;
using System.Globalization;

namespace Streams.Raft.Storage.FileLog;

/// <summary>
/// The byte layout of segment files (see Storage/FORMAT.md): a 32-byte header, then frames. A
/// frame is what one write appends (one <c>SaveAsync</c>): a 16-byte frame header (CRC-32C,
/// body length, the frame's own file offset) and a body of records without checksums of their
/// own, so a torn write loses the whole frame, never part of it. All integers little-endian.
/// </summary>
internal static class LogFormat
{
    /// <summary>The segment header: magic, version, generation, sequence, CRC.</summary>
    public const int HeaderSize = 32;

    /// <summary>crc32c u32, bodyLength i32, position i64.</summary>
    public const int FrameHeaderSize = 16;

    /// <summary>kind u8, type u8, term i64, index i64, dataLength i32 (then the data).</summary>
    public const int EntryRecordHeaderSize = 22;

    /// <summary>kind u8, term i64, vote i64, commit i64.</summary>
    public const int HardStateRecordSize = 25;

    private const string Extension = ".log";
    private const uint Magic = 0x474C5253; // "SRLG" on disk
    private const ushort Version = 1;
    private const byte EntryKind = 1;
    private const byte HardStateKind = 2;

    /// <summary>The file name of the segment with this sequence number; names sort in sequence order.</summary>
    public static string SegmentName(long sequence) => sequence.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>Parses a name made by <see cref="SegmentName"/>; false for any other file.</summary>
    public static bool TryParseSegmentName(string fileName, out long sequence)
    {
        sequence = 0;
        return fileName.Length == 20 + Extension.Length
            && fileName.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    /// <summary>Writes a segment header into the first <see cref="HeaderSize"/> bytes of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, long generation, long sequence)
    {
        var header = destination[..HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Crc32C.Compute(header[..28]));
    }

    /// <summary>Reads a segment header; false when the file is too short or the header is not intact.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> file, out long generation, out long sequence)
    {
        generation = 0;
        sequence = 0;
        if (file.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(file) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(file[4..]) != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(file[28..]) != Crc32C.Compute(file[..28]))
        {
            return false;
        }

        generation = BinaryPrimitives.ReadInt64LittleEndian(file[8..]);
        sequence = BinaryPrimitives.ReadInt64LittleEndian(file[16..]);
        return true;
    }

    /// <summary>The size of the frame holding <paramref name="entries"/> and, if asked, a hard state.</summary>
    public static long FrameSize(IReadOnlyList<Entry> entries, bool withHardState)
    {
        long size = FrameHeaderSize + (withHardState ? HardStateRecordSize : 0);
        for (var i = 0; i < entries.Count; i++)
        {
            size += EntryRecordHeaderSize + entries[i].Data.Length;
        }

        return size;
    }

    /// <summary>
    /// Writes the frame for <paramref name="entries"/> then <paramref name="hardState"/> (the order
    /// replay applies them in) into <paramref name="destination"/>, exactly
    /// <see cref="FrameSize"/> bytes, for file offset <paramref name="position"/>.
    /// </summary>
    public static void WriteFrame(Span<byte> destination, long position, IReadOnlyList<Entry> entries, HardState? hardState)
    {
        var offset = FrameHeaderSize;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var record = destination[offset..];
            record[0] = EntryKind;
            record[1] = (byte)entry.Type;
            BinaryPrimitives.WriteInt64LittleEndian(record[2..], entry.Term);
            BinaryPrimitives.WriteInt64LittleEndian(record[10..], entry.Index);
            BinaryPrimitives.WriteInt32LittleEndian(record[18..], entry.Data.Length);
            entry.Data.Span.CopyTo(record[EntryRecordHeaderSize..]);
            offset += EntryRecordHeaderSize + entry.Data.Length;
        }

        if (hardState is { } state)
        {
            var record = destination[offset..];
            record[0] = HardStateKind;
            BinaryPrimitives.WriteInt64LittleEndian(record[1..], state.Term);
            BinaryPrimitives.WriteInt64LittleEndian(record[9..], state.Vote);
            BinaryPrimitives.WriteInt64LittleEndian(record[17..], state.Commit);
            offset += HardStateRecordSize;
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], offset - FrameHeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], position);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Crc32C.Compute(destination[4..offset]));
    }

    /// <summary>
    /// The body length of the intact frame at <paramref name="position"/> of <paramref name="file"/>,
    /// or -1 when there is none: too short, a length past the end, another offset recorded (a
    /// frame's bytes copied inside some payload), or a checksum mismatch.
    /// </summary>
    public static int IntactFrameBodyLength(ReadOnlySpan<byte> file, long position)
    {
        if (position < 0 || position > file.Length - FrameHeaderSize)
        {
            return -1;
        }

        var frame = file[(int)position..];
        var length = BinaryPrimitives.ReadInt32LittleEndian(frame[4..]);
        if (length < 1
            || length > frame.Length - FrameHeaderSize
            || BinaryPrimitives.ReadInt64LittleEndian(frame[8..]) != position
            || BinaryPrimitives.ReadUInt32LittleEndian(frame) != Crc32C.Compute(frame[4..(FrameHeaderSize + length)]))
        {
            return -1;
        }

        return length;
    }

    /// <summary>The offset of the first intact frame at or after <paramref name="from"/>, or -1.</summary>
    public static long FindIntactFrame(ReadOnlySpan<byte> file, long from)
    {
        for (var position = Math.Max(0, from); position <= file.Length - FrameHeaderSize; position++)
        {
            if (IntactFrameBodyLength(file, position) >= 0)
            {
                return position;
            }
        }

        return -1;
    }

    /// <summary>
    /// Reads the record at <paramref name="offset"/> of a frame body and moves past it: an entry
    /// (its data copied) or, when <paramref name="entry"/> is null, a hard state. False with
    /// <paramref name="problem"/> when the record is malformed.
    /// </summary>
    public static bool TryReadRecord(ReadOnlySpan<byte> body, ref int offset, out Entry? entry, out HardState hardState, out string? problem)
    {
        entry = null;
        hardState = default;
        problem = null;
        var record = body[offset..];
        switch (record[0])
        {
            case EntryKind when record.Length >= EntryRecordHeaderSize:
                var type = record[1];
                var term = BinaryPrimitives.ReadInt64LittleEndian(record[2..]);
                var index = BinaryPrimitives.ReadInt64LittleEndian(record[10..]);
                var length = BinaryPrimitives.ReadInt32LittleEndian(record[18..]);
                if (type > (byte)EntryType.Config || term < 1 || index < 1 || length < 0 || length > record.Length - EntryRecordHeaderSize)
                {
                    problem = $"malformed entry record (type {type}, term {term}, index {index}, {length} bytes)";
                    return false;
                }

                entry = new Entry(term, index, record.Slice(EntryRecordHeaderSize, length).ToArray(), (EntryType)type);
                offset += EntryRecordHeaderSize + length;
                return true;
            case HardStateKind when record.Length >= HardStateRecordSize:
                hardState = new HardState(
                    BinaryPrimitives.ReadInt64LittleEndian(record[1..]),
                    BinaryPrimitives.ReadInt64LittleEndian(record[9..]),
                    BinaryPrimitives.ReadInt64LittleEndian(record[17..]));
                offset += HardStateRecordSize;
                return true;
            default:
                problem = $"malformed record of kind {record[0]} ({record.Length} bytes left in the frame)";
                return false;
        }
    }
}
