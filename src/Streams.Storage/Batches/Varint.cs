using System.Runtime.CompilerServices;

namespace Streams.Storage.Batches;

/// <summary>
/// Unsigned LEB128 varints (7 bits a byte, low group first, high bit set on every byte but the
/// last) and the zig-zag mapping of signed values onto them, as the record section uses them.
/// </summary>
internal static class Varint
{
    /// <summary>The most bytes a 32-bit varint takes.</summary>
    public const int MaxLength32 = 5;

    /// <summary>The most bytes a 64-bit varint takes.</summary>
    public const int MaxLength64 = 10;

    /// <summary>Bytes that <paramref name="value"/> takes as a varint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Size(ulong value) => ((63 - System.Numerics.BitOperations.LeadingZeroCount(value | 1)) / 7) + 1;

    /// <summary>Maps a signed value to an unsigned one with small magnitudes staying small: 0, -1, 1, -2 → 0, 1, 2, 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    /// <summary>The inverse of <see cref="ZigZag"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Reads a varint of at most <paramref name="maxLength"/> bytes from the start of
    /// <paramref name="source"/>. Returns the bytes it took, 0 when the source ends inside the
    /// varint, or -1 when it runs longer than <paramref name="maxLength"/> bytes or overflows 64 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TryRead(ReadOnlySpan<byte> source, int maxLength, out ulong value)
    {
        if (source.Length >= 2)
        {
            uint first = source[0];
            if (first < 0x80)
            {
                value = first;
                return 1;
            }

            uint second = source[1];
            if (second < 0x80)
            {
                value = (first & 0x7F) | (second << 7);
                return 2;
            }
        }

        return TryReadSlow(source, maxLength, out value);
    }

    private static int TryReadSlow(ReadOnlySpan<byte> source, int maxLength, out ulong value)
    {
        value = 0;
        var shift = 0;
        for (var i = 0; i < maxLength; i++)
        {
            if (i == source.Length)
            {
                return 0;
            }

            ulong b = source[i];
            if (shift == 63 && b > 1)
            {
                return -1;
            }

            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return i + 1;
            }

            shift += 7;
        }

        return -1;
    }
}
