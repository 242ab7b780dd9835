using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Streams.Storage.Batches;

namespace Streams.Storage.Segments.Indexes;

/// <summary>
/// Reads and writes an index file: a 24-byte header, then fixed-size little-endian entries.
/// <code>
/// offset size field
///  0     4    Magic          "SIDX" (offset index) or "STIX" (time index)
///  4     4    Crc32C         CRC-32C of bytes [8, end of file)
///  8     2    FormatVersion  1
/// 10     2    EntrySize      8 (offset) or 12 (time)
/// 12     4    EntryCount
/// 16     8    BaseIndex      the segment's base index
/// 24     ...  entries
/// </code>
/// A closed segment's index files are written whole when it rolls (or is rebuilt) and fsynced;
/// the CRC makes a torn, truncated or garbled file fail the check, and the file is then rebuilt
/// from the log rather than trusted.
/// </summary>
internal static class IndexFile
{
    /// <summary>Bytes in the header.</summary>
    public const int HeaderSize = 24;

    /// <summary>The format this code writes and reads.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Writes <paramref name="entries"/> to <paramref name="path"/>, replacing it, and fsyncs it.</summary>
    public static void Write<T>(string path, long baseIndex, ReadOnlySpan<T> entries)
        where T : struct, IIndexEntry<T>
    {
        var length = HeaderSize + (entries.Length * T.Size);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var file = buffer.AsSpan(0, length);
            T.Magic.CopyTo(file);
            BinaryPrimitives.WriteUInt16LittleEndian(file[8..], FormatVersion);
            BinaryPrimitives.WriteUInt16LittleEndian(file[10..], (ushort)T.Size);
            BinaryPrimitives.WriteInt32LittleEndian(file[12..], entries.Length);
            BinaryPrimitives.WriteInt64LittleEndian(file[16..], baseIndex);
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i].Write(file[(HeaderSize + (i * T.Size))..]);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(file[4..], Checksum.Crc32C(file[8..]));
            using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.Write(handle, file, 0);
            RandomAccess.FlushToDisk(handle);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the entries of <paramref name="path"/> if its header, size and CRC are sound; returns
    /// null and says why otherwise (missing file included). Entry order is the caller's check.
    /// </summary>
    public static T[]? TryRead<T>(string path, long baseIndex, out string reason)
        where T : struct, IIndexEntry<T>
    {
        byte[] file;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            if (length > int.MaxValue / 2)
            {
                reason = Invariant($"it has {length} bytes, more than an index can have");
                return null;
            }

            file = new byte[length];
            ReadFully(handle, file);
        }
        catch (FileNotFoundException)
        {
            reason = "it is missing";
            return null;
        }

        var bytes = file.AsSpan();
        if (bytes.Length < HeaderSize)
        {
            reason = Invariant($"it has {bytes.Length} bytes, less than its {HeaderSize}-byte header");
            return null;
        }

        if (!bytes[..4].SequenceEqual(T.Magic))
        {
            reason = "it does not start with the expected magic bytes";
            return null;
        }

        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var expectedLength = HeaderSize + ((long)count * T.Size);
        if (count < 0 || expectedLength != bytes.Length)
        {
            reason = Invariant($"it has {bytes.Length} bytes, its header announces {count} entries of {T.Size} bytes");
            return null;
        }

        var crc = Checksum.Crc32C(bytes[8..]);
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]))
        {
            reason = Invariant($"its CRC-32C is 0x{crc:x8}, the header says 0x{BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]):x8}");
            return null;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]) != FormatVersion || BinaryPrimitives.ReadUInt16LittleEndian(bytes[10..]) != T.Size)
        {
            reason = "its format version or entry size is not one this build reads";
            return null;
        }

        if (BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]) != baseIndex)
        {
            reason = Invariant($"it belongs to the segment at base index {BinaryPrimitives.ReadInt64LittleEndian(bytes[16..])}, not {baseIndex}");
            return null;
        }

        var entries = new T[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = T.Read(bytes[(HeaderSize + (i * T.Size))..]);
        }

        reason = string.Empty;
        return entries;
    }

    private static void ReadFully(SafeFileHandle handle, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], total);
            if (read == 0)
            {
                throw new EndOfStreamException("The index file shrank while it was read.");
            }

            total += read;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
