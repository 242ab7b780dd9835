using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Streams.Client.Routing;

/// <summary>
/// 128-bit hash keys: where a record lands in a stream. A partition key hashes to the MD5 digest of
/// its UTF-8 bytes read as a big-endian integer, as Kinesis does, so a key lands in the shard a
/// Kinesis user expects; an explicit hash key is that integer written in decimal.
/// </summary>
public static class HashKey
{
    /// <summary>The text of every parse error, after the field name.</summary>
    public const string RangeDescription = "must be a decimal integer in [0, 2^128 - 1]";

    /// <summary>The most decimal digits a hash key has without leading zeros (2^128 - 1 has 39).</summary>
    public const int MaxDigits = 39;

    // Partition keys are at most 256 characters in Kinesis (768 UTF-8 bytes); longer ones rent.
    private const int StackBytes = 1024;

    /// <summary>The largest hash key, 2^128 - 1.</summary>
    public static UInt128 Max => UInt128.MaxValue;

    /// <summary>The hash key of a partition key, without allocating (for keys up to 1 KiB of UTF-8).</summary>
    /// <param name="partitionKey">The partition key.</param>
    public static UInt128 FromPartitionKey(ReadOnlySpan<char> partitionKey)
    {
        var byteCount = Encoding.UTF8.GetByteCount(partitionKey);
        byte[]? rented = null;
        var utf8 = byteCount <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            var written = Encoding.UTF8.GetBytes(partitionKey, utf8);
            return FromUtf8(utf8[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The hash key of a partition key given as UTF-8 bytes.</summary>
    /// <param name="partitionKeyUtf8">The partition key's UTF-8 bytes.</param>
    public static UInt128 FromUtf8(ReadOnlySpan<byte> partitionKeyUtf8)
    {
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        // MD5 here is Kinesis' placement function, not a security measure.
#pragma warning disable CA5351
        MD5.HashData(partitionKeyUtf8, digest);
#pragma warning restore CA5351
        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    /// <summary>Reads a decimal hash key: digits only (no sign, space or separator), at most 2^128 - 1.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The hash key when the text is one.</param>
    public static bool TryParse(ReadOnlySpan<char> text, out UInt128 value)
    {
        value = default;
        return !text.IsEmpty
            && text.Length <= 64
            && UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Reads a decimal hash key, or throws a <see cref="FormatException"/> naming the field.</summary>
    /// <param name="text">The text.</param>
    /// <param name="fieldName">The request field it came from, such as <c>explicit_hash_key</c>.</param>
    public static UInt128 Parse(string text, string fieldName)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value) ? value : throw new FormatException(ParseError(fieldName, text));
    }

    /// <summary>The message for a value of <paramref name="fieldName"/> that is not a hash key.</summary>
    /// <param name="fieldName">The request field.</param>
    /// <param name="text">What it held.</param>
    public static string ParseError(string fieldName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shown = text.Length <= 48 ? text : string.Concat(text.AsSpan(0, 45), "...");
        return $"{fieldName} {RangeDescription}; '{shown}' is not.";
    }

    /// <summary>The decimal text of a hash key.</summary>
    /// <param name="value">The hash key.</param>
    public static string Format(UInt128 value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the decimal text of a hash key without allocating.</summary>
    /// <param name="value">The hash key.</param>
    /// <param name="destination">At least <see cref="MaxDigits"/> characters to be sure it fits.</param>
    /// <param name="written">How many characters were written.</param>
    public static bool TryFormat(UInt128 value, Span<char> destination, out int written) =>
        value.TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
}
