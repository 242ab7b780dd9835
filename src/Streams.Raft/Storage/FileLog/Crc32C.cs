using System.Buffers.Binary;
using System.Numerics;

namespace Streams.Raft.Storage.FileLog;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every frame and snapshot file. Streams.Raft has no
/// reference to the storage project's helper, and <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// uses the CPU's instruction where there is one, so eight bytes at a time is fast enough.
/// </summary>
internal static class Crc32C
{
    /// <summary>The checksum of <paramref name="data"/> (initial value and final inversion included).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(uint.MaxValue, data);

    /// <summary>The checksum of two spans one after the other, as if they were one.</summary>
    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Append(Append(uint.MaxValue, first), second);

    private static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        if (data.Length >= sizeof(uint))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[sizeof(uint)..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
