using System.Globalization;

namespace Streams.Server.Routing;

/// <summary>
/// Shard ids, <c>shardId-000000000000</c>: a stream's shards are numbered 0, 1, 2, ... in creation
/// order, zero-padded to 12 digits so that ids sort as their numbers do.
/// </summary>
public static class ShardIds
{
    /// <summary>What every shard id starts with.</summary>
    public const string Prefix = "shardId-";

    /// <summary>Digits after the prefix.</summary>
    public const int Digits = 12;

    /// <summary>The length of every shard id.</summary>
    public const int Length = 20;

    /// <summary>The id of shard number <paramref name="number"/>.</summary>
    /// <param name="number">The shard number, at least 0.</param>
    public static string Format(int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        return string.Create(Length, number, static (span, n) =>
        {
            Prefix.CopyTo(span);
            n.TryFormat(span[Prefix.Length..], out _, "D12", CultureInfo.InvariantCulture);
        });
    }

    /// <summary>Reads a shard id: the prefix and exactly 12 digits (a number that fits an <see cref="int"/>).</summary>
    /// <param name="shardId">The text.</param>
    /// <param name="number">The shard number when the text is a shard id.</param>
    public static bool TryParse(ReadOnlySpan<char> shardId, out int number)
    {
        number = 0;
        if (shardId.Length != Length || !shardId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var digits = shardId[Prefix.Length..];
        if (digits.ContainsAnyExceptInRange('0', '9') || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > int.MaxValue)
        {
            return false;
        }

        number = (int)value;
        return true;
    }

    /// <summary>The message for a value of <paramref name="fieldName"/> that is not a shard id.</summary>
    /// <param name="fieldName">The request field.</param>
    /// <param name="text">What it held.</param>
    public static string ParseError(string fieldName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shown = text.Length <= 48 ? text : string.Concat(text.AsSpan(0, 45), "...");
        return $"{fieldName} must be a shard id like {Prefix}000000000000 (as ListShards returns them); '{shown}' is not.";
    }
}
