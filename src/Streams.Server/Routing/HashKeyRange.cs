using Streams.Client.Routing;
namespace Streams.Server.Routing;

/// <summary>A range of hash keys, inclusive at both ends: what one shard holds.</summary>
public readonly record struct HashKeyRange
{
    /// <summary>A range; <paramref name="start"/> must not exceed <paramref name="end"/>.</summary>
    /// <param name="start">The first hash key.</param>
    /// <param name="end">The last hash key.</param>
    public HashKeyRange(UInt128 start, UInt128 end)
    {
        if (start > end)
        {
            throw new ArgumentException($"A hash-key range starts at or before its end; [{start}, {end}] does not.", nameof(start));
        }

        Start = start;
        End = end;
    }

    /// <summary>Every hash key, [0, 2^128 - 1].</summary>
    public static HashKeyRange Full => new(UInt128.Zero, UInt128.MaxValue);

    /// <summary>The first hash key.</summary>
    public UInt128 Start { get; }

    /// <summary>The last hash key.</summary>
    public UInt128 End { get; }

    /// <summary>True when <paramref name="hashKey"/> is in the range.</summary>
    /// <param name="hashKey">The hash key.</param>
    public bool Contains(UInt128 hashKey) => hashKey >= Start && hashKey <= End;

    /// <summary>True when the two ranges share a hash key.</summary>
    /// <param name="other">The other range.</param>
    public bool Overlaps(HashKeyRange other) => Start <= other.End && other.Start <= End;

    /// <summary>True when <paramref name="next"/> starts right after this range ends.</summary>
    /// <param name="next">The range that may follow.</param>
    public bool IsFollowedBy(HashKeyRange next) => End != UInt128.MaxValue && End + 1 == next.Start;

    /// <summary>
    /// Part <paramref name="index"/> of the whole key space cut into <paramref name="count"/> parts
    /// as evenly as integers allow: part i starts at floor(i * 2^128 / count), as Kinesis cuts a
    /// new stream.
    /// </summary>
    /// <param name="count">How many parts (at least 1).</param>
    /// <param name="index">Which part, from 0.</param>
    public static HashKeyRange EvenPart(int count, int index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        var end = index == count - 1 ? UInt128.MaxValue : EvenStart(count, index + 1) - 1;
        return new HashKeyRange(EvenStart(count, index), end);
    }

    /// <summary>The whole key space cut into <paramref name="count"/> even parts, in order.</summary>
    /// <param name="count">How many parts (at least 1).</param>
    public static HashKeyRange[] Even(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var parts = new HashKeyRange[count];
        for (var i = 0; i < count; i++)
        {
            parts[i] = EvenPart(count, i);
        }

        return parts;
    }

    /// <summary>"[start, end]" in decimal.</summary>
    public override string ToString() => $"[{HashKey.Format(Start)}, {HashKey.Format(End)}]";

    // 2^128 = q * count + r + 1 with q, r from (2^128 - 1) / count, so i * 2^128 / count is
    // i * q + i * (r + 1) / count, where i * (r + 1) < count^2 cannot overflow.
    private static UInt128 EvenStart(int count, int index)
    {
        var (q, r) = UInt128.DivRem(UInt128.MaxValue, (uint)count);
        return (q * (uint)index) + ((UInt128)(uint)index * (r + 1) / (uint)count);
    }
}
