namespace Streams.Server.Firehose.Output;

/// <summary>
/// Whether raw records followed by a delimiter read back as themselves when a reader splits the
/// object at each delimiter, left to right.
/// </summary>
internal static class DelimiterFraming
{
    /// <summary>
    /// True when the first <paramref name="delimiter"/> in <c>data + delimiter</c> starts right
    /// after the data: the data does not hold the delimiter, and no end of the data together with
    /// a beginning of the delimiter spells the delimiter (possible only for a delimiter that
    /// overlaps itself, like "\n\n" after data ending in "\n"). Always true for an empty delimiter.
    /// </summary>
    public static bool CanFrame(ReadOnlySpan<byte> data, ReadOnlySpan<byte> delimiter)
    {
        if (delimiter.IsEmpty)
        {
            return true;
        }

        if (data.IndexOf(delimiter) >= 0)
        {
            return false;
        }

        // A match straddling the boundary would start k bytes before the data's end: the data ends
        // with delimiter[..k] and the delimiter's remaining part equals its own first part.
        var longest = Math.Min(delimiter.Length - 1, data.Length);
        for (var k = 1; k <= longest; k++)
        {
            if (data.EndsWith(delimiter[..k]) && delimiter[k..].SequenceEqual(delimiter[..^k]))
            {
                return false;
            }
        }

        return true;
    }
}
