using System.Globalization;

namespace Streams.Server.Routing;

/// <summary>
/// A record's place in its shard: the Raft index of the batch (entry) that holds it and its
/// position within the batch. Written as 26 decimal digits (the index zero-padded to 20, the
/// position to 6), so that two sequence numbers of a shard compare lexically as they compare
/// numerically. Opaque to clients.
/// </summary>
public readonly record struct SequenceNumber : IComparable<SequenceNumber>
{
    /// <summary>Digits of the index part (enough for any non-negative 64-bit index).</summary>
    public const int IndexDigits = 20;

    /// <summary>Digits of the position part.</summary>
    public const int PositionDigits = 6;

    /// <summary>The length of every sequence number.</summary>
    public const int Length = IndexDigits + PositionDigits;

    /// <summary>The largest position: a batch holds at most a million records.</summary>
    public const int MaxPosition = 999_999;

    /// <summary>A sequence number.</summary>
    /// <param name="index">The Raft index of the batch, at least 0.</param>
    /// <param name="position">The record's position in the batch, 0 to <see cref="MaxPosition"/>.</param>
    public SequenceNumber(long index, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, MaxPosition);
        Index = index;
        Position = position;
    }

    /// <summary>The Raft index of the batch.</summary>
    public long Index { get; }

    /// <summary>The record's position in the batch.</summary>
    public int Position { get; }

    /// <summary>The first sequence number a shard whose log starts at <paramref name="firstIndex"/> can have.</summary>
    /// <param name="firstIndex">The shard's first Raft index.</param>
    public static SequenceNumber FirstAt(long firstIndex) => new(firstIndex, 0);

    /// <summary>Orders by index, then position.</summary>
    /// <param name="other">The other sequence number.</param>
    public int CompareTo(SequenceNumber other)
    {
        var byIndex = Index.CompareTo(other.Index);
        return byIndex != 0 ? byIndex : Position.CompareTo(other.Position);
    }

    /// <summary>Writes the 26 digits without allocating.</summary>
    /// <param name="destination">At least <see cref="Length"/> characters.</param>
    /// <param name="written">How many characters were written (<see cref="Length"/>, or 0 when it did not fit).</param>
    public bool TryFormat(Span<char> destination, out int written)
    {
        written = 0;
        if (destination.Length < Length
            || !Index.TryFormat(destination[..IndexDigits], out _, "D20", CultureInfo.InvariantCulture)
            || !Position.TryFormat(destination[IndexDigits..Length], out _, "D6", CultureInfo.InvariantCulture))
        {
            return false;
        }

        written = Length;
        return true;
    }

    /// <summary>The 26-digit text.</summary>
    public override string ToString() => string.Create(Length, this, static (span, value) => value.TryFormat(span, out _));

    /// <summary>Reads a sequence number: exactly 26 ASCII digits whose index part fits a 64-bit signed integer.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The sequence number when the text is one.</param>
    public static bool TryParse(ReadOnlySpan<char> text, out SequenceNumber value)
    {
        value = default;
        if (text.Length != Length || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        if (!ulong.TryParse(text[..IndexDigits], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index > long.MaxValue)
        {
            return false;
        }

        value = new SequenceNumber((long)index, int.Parse(text[IndexDigits..], NumberStyles.None, CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>Reads a sequence number, or throws a <see cref="FormatException"/> naming the field.</summary>
    /// <param name="text">The text.</param>
    /// <param name="fieldName">The request field it came from, such as <c>starting_sequence_number</c>.</param>
    public static SequenceNumber Parse(string text, string fieldName)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value) ? value : throw new FormatException(ParseError(fieldName, text));
    }

    /// <summary>The message for a value of <paramref name="fieldName"/> that is not a sequence number.</summary>
    /// <param name="fieldName">The request field.</param>
    /// <param name="text">What it held.</param>
    public static string ParseError(string fieldName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shown = text.Length <= 48 ? text : string.Concat(text.AsSpan(0, 45), "...");
        return $"{fieldName} must be a sequence number as PutRecord or GetRecords returned it ({Length} decimal digits); '{shown}' is not.";
    }

    /// <summary>True when <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator <(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) < 0;

    /// <summary>True when <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator >(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) > 0;

    /// <summary>True when <paramref name="left"/> does not come after <paramref name="right"/>.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator <=(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) <= 0;

    /// <summary>True when <paramref name="left"/> does not come before <paramref name="right"/>.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator >=(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) >= 0;
}
