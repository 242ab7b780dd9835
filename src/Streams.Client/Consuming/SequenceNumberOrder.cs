namespace Streams.Client.Consuming;

/// <summary>
/// Orders a shard's sequence numbers: decimal strings without leading zeros beyond their fixed
/// width, so a longer one is larger and equal lengths compare lexically (streams.proto says so).
/// </summary>
internal static class SequenceNumberOrder
{
    /// <summary>Negative when <paramref name="left"/> comes first, 0 when equal, positive when it comes later.</summary>
    /// <param name="left">A sequence number.</param>
    /// <param name="right">A sequence number of the same shard.</param>
    public static int Compare(string left, string right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return left.Length != right.Length ? left.Length.CompareTo(right.Length) : string.CompareOrdinal(left, right);
    }

    /// <summary>True when <paramref name="candidate"/> is set and comes after <paramref name="current"/> (or <paramref name="current"/> is not set).</summary>
    /// <param name="candidate">A sequence number, or null.</param>
    /// <param name="current">A sequence number, or null.</param>
    public static bool IsAfter(string? candidate, string? current) =>
        !string.IsNullOrEmpty(candidate) && (string.IsNullOrEmpty(current) || Compare(candidate, current) > 0);
}
