using System.Numerics;
using System.Runtime.InteropServices;

namespace Streams.Storage.Batches;

/// <summary>Checksums of stored bytes.</summary>
public static class Checksum
{
    /// <summary>
    /// CRC-32C (Castagnoli) of <paramref name="data"/>, with the CPU's CRC32 instruction through
    /// <see cref="BitOperations.Crc32C(uint, ulong)"/>.
    /// </summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) => ~Append(0xFFFF_FFFFu, data);

    /// <summary>Continues a raw (not yet inverted) CRC-32C state over more data.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        var longs = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var value in longs)
        {
            state = BitOperations.Crc32C(state, value);
        }

        foreach (var value in data[(longs.Length * sizeof(ulong))..])
        {
            state = BitOperations.Crc32C(state, value);
        }

        return state;
    }
}
